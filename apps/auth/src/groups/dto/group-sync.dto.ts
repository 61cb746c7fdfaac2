import { ApiProperty } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsDefined, IsIn, ValidateNested } from 'class-validator';
import { IsInt64Field, IsUserIdField } from '../../http/user-id.validators';
import { GroupRole } from '../group.entities';

const ROLES = { member: GroupRole.Member, admin: GroupRole.Admin, owner: GroupRole.Owner } as const;

export class GroupMemberDto {
  @ApiProperty({ example: 2302128618880 })
  @IsDefined({ message: 'user_id is required' })
  @IsUserIdField()
  user_id!: number;

  @ApiProperty({ enum: Object.keys(ROLES), example: 'member' })
  @IsDefined({ message: 'role is required' })
  @IsIn(Object.keys(ROLES), { message: 'role must be owner, admin or member' })
  role!: keyof typeof ROLES;

  static roleOf(member: GroupMemberDto): GroupRole {
    return ROLES[member.role];
  }
}

export class GroupIdDto {
  @ApiProperty({ example: 1700000000001, description: 'The group service\'s int64 id (number or decimal string)' })
  @IsDefined({ message: 'group_id is required' })
  @IsInt64Field()
  group_id!: string;
}

export class GroupSyncDto extends GroupIdDto {
  @ApiProperty({ type: [GroupMemberDto], description: 'The complete member list: it replaces the previous one', maxItems: 10000 })
  @IsDefined({ message: 'members is required' })
  @IsArray()
  @ArrayMaxSize(10000)
  @ValidateNested({ each: true })
  @Type(() => GroupMemberDto)
  members!: GroupMemberDto[];
}
