import { ApiProperty } from '@nestjs/swagger';
import { UserEntity, UserStatus } from '../user.entity';

export class RegisteredUser {
  @ApiProperty({ example: 2302128618880 })
  user_id!: number;

  @ApiProperty({ example: 'alice_01', nullable: true, type: String })
  username!: string | null;

  @ApiProperty({ example: '+8613800138000', nullable: true, type: String })
  mobile!: string | null;

  @ApiProperty({ example: 'alice@example.com', nullable: true, type: String })
  email!: string | null;

  static of(user: UserEntity): RegisteredUser {
    return { user_id: user.id, username: user.username, mobile: user.mobile, email: user.email };
  }
}

export class BatchRegistrationResult {
  @ApiProperty({ example: 2302128618880, nullable: true, type: Number })
  user_id!: number | null;

  @ApiProperty({ example: 'alice_01' })
  username!: string;

  @ApiProperty()
  success!: boolean;

  @ApiProperty({ example: null, nullable: true, type: String, description: 'Why this user was not created' })
  reason!: string | null;
}

export class UserListItem {
  @ApiProperty({ example: 2302128618880 })
  user_id!: number;

  @ApiProperty({ example: 'alice_01', nullable: true, type: String })
  username!: string | null;

  @ApiProperty({ enum: [0, 1], description: '0 normal, 1 banned' })
  status!: UserStatus;

  static of(user: UserEntity): UserListItem {
    return { user_id: user.id, username: user.username, status: user.status };
  }
}
