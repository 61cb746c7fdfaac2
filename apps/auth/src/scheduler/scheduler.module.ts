import { Module } from '@nestjs/common';
import { Scheduler } from './scheduler';

/** One Scheduler for every feature that imports this: shutdown stops all of their tasks. */
@Module({ providers: [Scheduler], exports: [Scheduler] })
export class SchedulerModule {}
