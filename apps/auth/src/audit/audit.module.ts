import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ImpersonationAuditEntity } from './impersonation-audit.entity';
import { ImpersonationAudit } from './impersonation-audit';

@Module({
  imports: [TypeOrmModule.forFeature([ImpersonationAuditEntity])],
  providers: [ImpersonationAudit],
  exports: [ImpersonationAudit],
})
export class AuditModule {}
