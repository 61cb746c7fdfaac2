import { Body, Controller, Get, HttpCode, Post, Query } from '@nestjs/common';
import { ApiBody, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { ErrorName } from '@app/contract';
import { AccountService } from './account.service';
import { ChangePasswordDto, DeleteUserDto, DeviceSnBody, DeviceSnQuery, SetPasswordDto, deviceSnOf, requiredDeviceSnOf } from './dto/account.dto';
import { DeviceListItem, ImpersonationRecord } from './dto/account-replies';
import { ApiEnvelope } from '../http/api-docs';
import { UserRoute } from '../callers/route-access';
import { Auth, Client, Tenant } from '../callers/resolved-request';
import type { Principal } from '../callers/principal';
import type { RequestClient } from '../callers/client';
import type { AppEntity } from '../tenants/app.entity';

/** What a password check adds to the route's errors. */
const PASSWORD_ERRORS: ErrorName[] = ['WRONG_CREDENTIALS', 'TOO_MANY_ATTEMPTS', 'USER_NOT_FOUND', 'SERVER_BUSY'];

const ACTING_FOR =
  "The user's own access-token acts as the user; an admin access-token, or a group owner's or admin's, acts for the user named by the user_id header.";

/**
 * The platform's endpoints of a user's own account. Each acts as the user CallerGuard resolved
 * (`@UserRoute()`); AccountService decides which callers may do what beyond that.
 */
@ApiTags('user')
@Controller('user')
export class AccountController {
  constructor(private readonly account: AccountService) {}

  @Post('change_password')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Change your own password',
    description:
      "The user's own access-token only (no user_id header). Every other session of the user is revoked; the calling one stays. " +
      'The devices signed out lose their vendor push bindings; the calling device keeps its.',
  })
  @ApiEnvelope('boolean')
  @UserRoute(...PASSWORD_ERRORS)
  async changePassword(@Tenant() app: AppEntity, @Auth() principal: Principal, @Body() body: ChangePasswordDto, @Client() client: RequestClient): Promise<boolean> {
    const oldPassword = { password: body.old_password, field: 'old_password', client };
    await this.account.changePassword(app, principal, oldPassword, body.new_password);
    return true;
  }

  @Post('change_password_admin')
  @HttpCode(200)
  @ApiOperation({
    summary: "Set a user's password (admin)",
    description: "An admin access-token with the user_id header. Every session of the user is revoked, and every device's vendor push binding dropped.",
  })
  @ApiEnvelope('boolean')
  @UserRoute('USER_NOT_FOUND', 'SERVER_BUSY')
  async changePasswordAdmin(@Tenant() app: AppEntity, @Auth() principal: Principal, @Body() body: SetPasswordDto, @Client() client: RequestClient): Promise<boolean> {
    await this.account.setPasswordAsAdmin(app, principal, body.password, client);
    return true;
  }

  @Post('delete')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Delete a user',
    description:
      "The user's own access-token with the password, or an admin access-token with the user_id header (no password). " +
      "The user's sessions are revoked; devices and group memberships are deleted with the user.",
  })
  @ApiEnvelope('boolean')
  @UserRoute(...PASSWORD_ERRORS)
  async deleteUser(@Tenant() app: AppEntity, @Auth() principal: Principal, @Body() body: DeleteUserDto, @Client() client: RequestClient): Promise<boolean> {
    const password = body.password === undefined ? undefined : { password: body.password, field: 'password', client };
    await this.account.deleteUser(app, principal, password);
    return true;
  }

  @Get('device/list')
  @ApiOperation({ summary: "List the user's devices, by device_sn", description: ACTING_FOR })
  @ApiEnvelope([DeviceListItem])
  @UserRoute()
  async listDevices(@Tenant() app: AppEntity, @Auth() principal: Principal): Promise<DeviceListItem[]> {
    return (await this.account.listDevices(app, principal)).map(DeviceListItem.of);
  }

  @Post('device/remove')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Remove one of the user\'s devices',
    description:
      'device_sn (required) in the JSON body, as the platform\'s web SDK sends it, or in the query; in both, they must agree. ' +
      `Its sessions are revoked and the device is forgotten with its push token and vendor push binding. ${ACTING_FOR}`,
  })
  @ApiBody({ type: DeviceSnBody, required: false })
  @ApiEnvelope('boolean')
  @UserRoute()
  async removeDevice(@Tenant() app: AppEntity, @Auth() principal: Principal, @Body() body: DeviceSnBody, @Query() query: DeviceSnQuery): Promise<boolean> {
    await this.account.removeDevice(app, principal, requiredDeviceSnOf(body, query));
    return true;
  }

  @Post('kick')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Sign the user out of one device, or of all',
    description:
      'device_sn in the JSON body, as the platform\'s web SDK sends it, or in the query; in both, they must agree. ' +
      'The sessions of the device (without device_sn: every session of the user) are revoked and each device gets a new push ' +
      'token, so the old one stops working, and loses its vendor push binding (POST /user/token/bind); ' +
      `the devices stay registered with their device_sn. ${ACTING_FOR}`,
  })
  @ApiBody({ type: DeviceSnBody, required: false })
  @ApiEnvelope('boolean')
  @UserRoute()
  async kick(@Tenant() app: AppEntity, @Auth() principal: Principal, @Body() body: DeviceSnBody, @Query() query: DeviceSnQuery): Promise<boolean> {
    await this.account.kick(app, principal, deviceSnOf(body, query));
    return true;
  }

  @Get('impersonations')
  @ApiOperation({
    summary: 'The calls that acted as the user',
    description: `Calls made through the user_id header, newest first (at most 100). ${ACTING_FOR} Such a call is itself recorded.`,
  })
  @ApiEnvelope([ImpersonationRecord])
  @UserRoute()
  async impersonations(@Tenant() app: AppEntity, @Auth() principal: Principal): Promise<ImpersonationRecord[]> {
    return (await this.account.impersonations(app, principal)).map(ImpersonationRecord.of);
  }
}
