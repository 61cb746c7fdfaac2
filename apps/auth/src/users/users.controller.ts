import { Body, Controller, Get, HttpCode, Post, Put, Query } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { UsersService } from './users.service';
import { UserStatus } from './user.entity';
import { RegisterBatchDto, RegisterUserDto } from './dto/register-user.dto';
import { UserIdListDto, UserPageQuery } from './dto/user-list.dto';
import { BatchRegistrationResult, RegisteredUser, UserListItem } from './dto/user-replies';
import { ApiEnvelope } from '../http/api-docs';
import { AdminRoute, RegistrationRoute } from '../callers/route-access';
import { Auth, Client, Tenant } from '../callers/resolved-request';
import type { Principal } from '../callers/principal';
import type { RequestClient } from '../callers/client';
import type { AppEntity } from '../tenants/app.entity';
import { ApiError, ErrorCatalogue } from '@app/contract';
import { HashingSaturated, type HashingClient } from '../crypto/hashing-pool';
import { availableParallelism } from 'node:os';

/** Users of a batch hashed at once: one per hashing worker (PasswordHasher has one per core). */
const BATCH_HASHES_AT_ONCE = availableParallelism();

/** The platform's user-management endpoints around the token routes. */
@ApiTags('user')
@Controller('user')
export class UsersController {
  constructor(private readonly users: UsersService) {}

  @Post('register/v2')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Register a user',
    description:
      'Needs an admin access-token unless the app allows open registration. Without one, each registration from a client network ' +
      "counts like a failed login unless it succeeds: an address that keeps hearing 'already taken' has to wait (10103).",
  })
  @ApiEnvelope(RegisteredUser)
  @RegistrationRoute('USER_EXISTS', 'TOO_MANY_ATTEMPTS', 'SERVER_BUSY')
  async register(@Tenant() app: AppEntity, @Auth() principal: Principal, @Body() body: RegisterUserDto, @Client() client: RequestClient): Promise<RegisteredUser> {
    const user = principal.caller.kind === 'admin' ? await this.users.register(app, body, client) : await this.users.registerOpenly(app, body, client);
    return RegisteredUser.of(user);
  }

  @Post('register/batch')
  @HttpCode(200)
  @ApiOperation({ summary: 'Register up to 100 users', description: 'Each user succeeds or fails on its own; `reason` says why.' })
  @ApiEnvelope([BatchRegistrationResult])
  @AdminRoute()
  async registerBatch(@Tenant() app: AppEntity, @Body() body: RegisterBatchDto, @Client() { network }: RequestClient): Promise<BatchRegistrationResult[]> {
    // In the caller's turn of the hashing queue (its network), but not cut short if it hangs up: a batch runs to its end.
    // A few at a time (one per hashing worker), so a batch never fills the hashing queue itself.
    const results: BatchRegistrationResult[] = [];
    for (let from = 0; from < body.list.length; from += BATCH_HASHES_AT_ONCE) {
      results.push(...(await Promise.all(body.list.slice(from, from + BATCH_HASHES_AT_ONCE).map((item) => this.registerOne(app, item, { network })))));
    }
    return results;
  }

  private async registerOne(app: AppEntity, item: RegisterBatchDto['list'][number], client: HashingClient): Promise<BatchRegistrationResult> {
    try {
      const user = await this.users.register(app, item, client);
      return { user_id: user.id, username: user.username ?? item.username, success: true, reason: null };
    } catch (error) {
      // A full hashing queue refuses this user only (nothing was written for it): retry it later.
      if (error instanceof HashingSaturated) {
        return { user_id: null, username: item.username, success: false, reason: ErrorCatalogue.SERVER_BUSY.message };
      }
      if (!(error instanceof ApiError)) throw error;
      return { user_id: null, username: item.username, success: false, reason: error.message };
    }
  }

  @Get('list')
  @ApiOperation({ summary: "List the app's users, oldest first" })
  @ApiEnvelope([UserListItem])
  @AdminRoute()
  async list(@Tenant() app: AppEntity, @Query() query: UserPageQuery): Promise<UserListItem[]> {
    const users = await this.users.list(app.id, query.page_num, query.page_size);
    return users.map(UserListItem.of);
  }

  @Put('disable')
  @ApiOperation({ summary: 'Ban users', description: 'All or none; banned users cannot log in and their tokens are revoked.' })
  @ApiEnvelope('boolean')
  @AdminRoute('USER_NOT_FOUND')
  async disable(@Tenant() app: AppEntity, @Body() body: UserIdListDto): Promise<boolean> {
    await this.users.setStatus(app.id, body.list, UserStatus.Banned);
    return true;
  }

  @Put('enable')
  @ApiOperation({ summary: 'Lift bans' })
  @ApiEnvelope('boolean')
  @AdminRoute('USER_NOT_FOUND')
  async enable(@Tenant() app: AppEntity, @Body() body: UserIdListDto): Promise<boolean> {
    await this.users.setStatus(app.id, body.list, UserStatus.Normal);
    return true;
  }
}
