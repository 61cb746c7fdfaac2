import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { GroupEntity, GroupMemberEntity } from './group.entities';
import { GroupDirectory } from './group-directory';
import { GroupsController } from './groups.controller';

@Module({
  imports: [TypeOrmModule.forFeature([GroupEntity, GroupMemberEntity])],
  controllers: [GroupsController],
  providers: [GroupDirectory],
  exports: [GroupDirectory],
})
export class GroupsModule {}
