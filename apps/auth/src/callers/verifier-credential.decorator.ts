import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { ApiError } from '@app/contract';
import { isAdminTokenShape } from '../admin-tokens/admin-tokens.service';
import type { ResolvedRequest } from './resolved-request';

/**
 * The `access-token` of a verifier route (`@VerifierRoute()`): an admin or verifier token by
 * its shape, which the route's own statement then checks (`verifierCallerRefusal`). Missing:
 * 10003; anything else, a user token included: 10010, as on admin routes. Nobody acts for anyone
 * here, so the impersonation headers are refused (10002) rather than ignored.
 */
export const VerifierCredential = createParamDecorator((_data: unknown, context: ExecutionContext): string => {
  const request = context.switchToHttp().getRequest<ResolvedRequest>();
  if (request.impersonation?.groupId !== undefined || request.impersonation?.userId !== undefined) {
    throw new ApiError('BAD_PARAMETER', 'This endpoint takes no user_id or group_id header');
  }
  const token = request.headers['access-token'];
  if (Array.isArray(token)) throw new ApiError('BAD_PARAMETER', 'access-token header is given more than once');
  if (!token) throw new ApiError('ACCESS_TOKEN_MISSING');
  if (!isAdminTokenShape(token)) throw new ApiError('NO_PERMISSION', 'This endpoint needs an admin or verifier access-token');
  return token;
});
