import { Body, Controller, HttpCode, Post, Put } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { GroupDirectory } from './group-directory';
import { GroupIdDto, GroupMemberDto, GroupSyncDto } from './dto/group-sync.dto';
import { ApiEnvelope } from '../http/api-docs';
import { AdminRoute } from '../callers/route-access';
import { Tenant } from '../callers/resolved-request';
import type { AppEntity } from '../tenants/app.entity';

/**
 * How the group service keeps our group directory current: after any change to a group, it sends
 * the group's complete member list with roles (admin token of the app).
 */
@ApiTags('group')
@Controller('group')
export class GroupsController {
  constructor(private readonly groups: GroupDirectory) {}

  @Put('sync')
  @ApiOperation({ summary: "Replace a group's members and roles (group service only)" })
  @ApiEnvelope('boolean')
  @AdminRoute()
  async sync(@Tenant() app: AppEntity, @Body() body: GroupSyncDto): Promise<boolean> {
    await this.groups.sync(
      app.id,
      body.group_id,
      body.members.map((member) => ({ userId: member.user_id, role: GroupMemberDto.roleOf(member) })),
    );
    return true;
  }

  @Post('remove')
  @HttpCode(200)
  @ApiOperation({ summary: 'Forget a dissolved group (group service only)' })
  @ApiEnvelope('boolean')
  @AdminRoute()
  remove(@Tenant() app: AppEntity, @Body() body: GroupIdDto): Promise<boolean> {
    return this.groups.remove(app.id, body.group_id);
  }
}
