/** Writes and reads the audit trail of impersonated calls. */
import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { ImpersonationAuditEntity } from './impersonation-audit.entity';
import type { Principal } from '../callers/principal';

export interface AuditedCall {
  appId: string;
  principal: Principal;
  method: string;
  path: string;
  clientIp: string | undefined;
}

@Injectable()
export class ImpersonationAudit {
  constructor(@InjectRepository(ImpersonationAuditEntity) private readonly rows: Repository<ImpersonationAuditEntity>) {}

  async record(call: AuditedCall): Promise<void> {
    const { caller, acting } = call.principal;
    if (caller.kind === 'anonymous') return;
    await this.rows.insert({
      appId: call.appId,
      callerKind: caller.kind,
      callerId: caller.kind === 'admin' ? caller.adminTokenId : String(caller.userId),
      actingUserId: acting.kind === 'user' ? acting.userId : null,
      actingGroupId: acting.kind === 'group-admin' ? acting.groupId : null,
      method: call.method.slice(0, 8),
      path: call.path.slice(0, 256),
      clientIp: call.clientIp?.slice(0, 64) ?? null,
    });
  }

  /** The calls that acted as this user, newest first. */
  actingAs(appId: string, userId: number, limit = 100): Promise<ImpersonationAuditEntity[]> {
    return this.rows.find({ where: { appId, actingUserId: userId }, order: { at: 'DESC', id: 'DESC' }, take: limit });
  }
}
