import { Body, Controller, Get, HttpCode, Post, Put, Query, Req } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { UsersService } from './users.service';
import { UserStatus } from './user.entity';
import { RegisterBatchDto, RegisterUserDto } from './dto/register-user.dto';
import { UserIdListDto, UserPageQuery } from './dto/user-list.dto';
import { BatchRegistrationResult, RegisteredUser, UserListItem } from './dto/user-replies';
import { ApiEnvelope, ApiErrors, PlatformHeaders } from '../http/api-docs.decorators';
import { Access } from '../http/route-access';
import { Tenant } from '../http/tenant.decorator';
import type { AppEntity } from '../tenants/app.entity';
import { ApiError, ErrorCatalogue } from '@app/contract';
import { HashingSaturated, type HashingClient } from '../crypto/hashing-pool';
import { requestClientOf } from '../http/client-ip';
import type { HttpRequest, ResolvedRequest } from '../http/request-context';
import { availableParallelism } from 'node:os';

/** Users of a batch hashed at once: one per hashing worker (PasswordHasher has one per core). */
const BATCH_HASHES_AT_ONCE = availableParallelism();

/** The platform's user-management endpoints around the token routes. */
@ApiTags('user')
@PlatformHeaders()
@Controller('user')
export class UsersController {
  constructor(private readonly users: UsersService) {}

  @Post('register/v2')
  @HttpCode(200)
  @Access('admin-or-open')
  @ApiOperation({
    summary: 'Register a user',
    description:
      'Needs an admin access-token unless the app allows open registration. Without one, each registration from a client network ' +
      "counts like a failed login unless it succeeds: an address that keeps hearing 'already taken' has to wait (10103).",
  })
  @ApiEnvelope(RegisteredUser)
  @ApiErrors('USER_EXISTS', 'NO_PERMISSION', 'ACCESS_TOKEN_INVALID', 'TOO_MANY_ATTEMPTS', 'SERVER_BUSY')
  async register(@Tenant() app: AppEntity, @Body() body: RegisterUserDto, @Req() request: ResolvedRequest): Promise<RegisteredUser> {
    const client = requestClientOf(request);
    const user = request.caller?.kind === 'admin' ? await this.users.register(app, body, client) : await this.users.registerOpenly(app, body, client);
    return RegisteredUser.of(user);
  }

  @Post('register/batch')
  @HttpCode(200)
  @Access('admin')
  @ApiOperation({ summary: 'Register up to 100 users', description: 'Each user succeeds or fails on its own; `reason` says why.' })
  @ApiEnvelope([BatchRegistrationResult])
  @ApiErrors('ACCESS_TOKEN_MISSING', 'ACCESS_TOKEN_INVALID', 'NO_PERMISSION')
  async registerBatch(@Tenant() app: AppEntity, @Body() body: RegisterBatchDto, @Req() request: HttpRequest): Promise<BatchRegistrationResult[]> {
    // In the caller's turn of the hashing queue, but not cut short if it hangs up: a batch runs to its end.
    const client = { ip: requestClientOf(request).ip };
    // A few at a time (one per hashing worker), so a batch never fills the hashing queue itself.
    const results: BatchRegistrationResult[] = [];
    for (let from = 0; from < body.list.length; from += BATCH_HASHES_AT_ONCE) {
      results.push(...(await Promise.all(body.list.slice(from, from + BATCH_HASHES_AT_ONCE).map((item) => this.registerOne(app, item, client)))));
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
  @Access('admin')
  @ApiOperation({ summary: "List the app's users, oldest first" })
  @ApiEnvelope([UserListItem])
  @ApiErrors('ACCESS_TOKEN_MISSING', 'ACCESS_TOKEN_INVALID', 'NO_PERMISSION')
  async list(@Tenant() app: AppEntity, @Query() query: UserPageQuery): Promise<UserListItem[]> {
    const users = await this.users.list(app.id, query.page_num, query.page_size);
    return users.map(UserListItem.of);
  }

  @Put('disable')
  @Access('admin')
  @ApiOperation({ summary: 'Ban users', description: 'All or none; banned users cannot log in and their tokens are revoked.' })
  @ApiEnvelope('boolean')
  @ApiErrors('USER_NOT_FOUND', 'ACCESS_TOKEN_MISSING', 'ACCESS_TOKEN_INVALID', 'NO_PERMISSION')
  async disable(@Tenant() app: AppEntity, @Body() body: UserIdListDto): Promise<boolean> {
    await this.users.setStatus(app.id, body.list, UserStatus.Banned);
    return true;
  }

  @Put('enable')
  @Access('admin')
  @ApiOperation({ summary: 'Lift bans' })
  @ApiEnvelope('boolean')
  @ApiErrors('USER_NOT_FOUND', 'ACCESS_TOKEN_MISSING', 'ACCESS_TOKEN_INVALID', 'NO_PERMISSION')
  async enable(@Tenant() app: AppEntity, @Body() body: UserIdListDto): Promise<boolean> {
    await this.users.setStatus(app.id, body.list, UserStatus.Normal);
    return true;
  }
}
