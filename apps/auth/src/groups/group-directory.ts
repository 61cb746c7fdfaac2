/**
 * Who is in which group, with which role. Groups live in the group service; it keeps this
 * directory current through `PUT /group/sync`. The caller guard asks it two questions only, so a
 * future implementation (asking the group service directly, or a cache) replaces this class alone.
 */
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { ApiError } from '@app/contract';
import { GroupMemberEntity, GroupEntity, GroupRole } from './group.entities';
import { UserEntity } from '../users/user.entity';

export interface GroupMember {
  userId: number;
  role: GroupRole;
}

/**
 * How user U stands towards user V across the groups they share: `outranks` when U holds a higher
 * role than V (owner > admin > member) in at least one of them.
 */
export type Standing = 'outranks' | 'does-not-outrank' | 'shares-nothing';

@Injectable()
export class GroupDirectory {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async exists(appId: string, groupId: string): Promise<boolean> {
    return this.dataSource.getRepository(GroupEntity).existsBy({ appId, groupId });
  }

  /** Whether `actor` outranks `target` in a group they share (roles: GroupRole, higher is more). */
  async standing(appId: string, actorId: number, targetId: number): Promise<Standing> {
    const rows: Array<{ actor: number; target: number }> = await this.dataSource.query(
      `SELECT actor.role AS actor, target.role AS target FROM group_member actor
         JOIN group_member target ON target.app_id = actor.app_id AND target.group_id = actor.group_id
        WHERE actor.app_id = $1 AND actor.user_id = $2 AND target.user_id = $3`,
      [appId, actorId, targetId],
    );
    if (rows.length === 0) return 'shares-nothing';
    return rows.some((row) => Number(row.actor) > Number(row.target)) ? 'outranks' : 'does-not-outrank';
  }

  /** Replaces a group's members (creating the group); every member must be a user of the app. */
  async sync(appId: string, groupId: string, members: GroupMember[]): Promise<void> {
    await this.dataSource.transaction(async (manager) => {
      const ids = [...new Set(members.map((member) => member.userId))];
      if (ids.length !== members.length) throw new ApiError('BAD_PARAMETER', 'members lists a user_id twice');
      if (ids.length > 0) {
        const known = await manager.getRepository(UserEntity).find({ select: { id: true }, where: ids.map((id) => ({ appId, id })) });
        const knownIds = new Set(known.map((user) => user.id));
        const unknown = ids.filter((id) => !knownIds.has(id));
        if (unknown.length > 0) throw new ApiError('BAD_PARAMETER', `members names users not in this app: ${unknown.slice(0, 10).join(', ')}`);
      }
      await manager.query(
        `INSERT INTO app_group (app_id, group_id, synced_at) VALUES ($1, $2, now())
         ON CONFLICT (app_id, group_id) DO UPDATE SET synced_at = now()`,
        [appId, groupId],
      );
      await manager.delete(GroupMemberEntity, { appId, groupId });
      if (members.length > 0) {
        await manager.insert(
          GroupMemberEntity,
          members.map((member) => ({ appId, groupId, userId: member.userId, role: member.role })),
        );
      }
    });
  }

  /** Forgets a group and its members; true when there was one. */
  async remove(appId: string, groupId: string): Promise<boolean> {
    const result = await this.dataSource.getRepository(GroupEntity).delete({ appId, groupId });
    return (result.affected ?? 0) > 0;
  }
}
