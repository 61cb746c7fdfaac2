import type { Request } from 'express';
import type { AppEntity } from '../apps/app.entity';
import type { Principal } from '../callers/principal';

/** Who is calling: resolved once per request from `access-token` by the CallerGuard. */
export type Caller =
  | { readonly kind: 'anonymous' }
  | { readonly kind: 'admin'; readonly appId: string; readonly adminTokenId: string }
  | { readonly kind: 'user'; readonly appId: string; readonly userId: number; readonly jti: string };

/** What the global guards attach to a request before any handler runs. */
export interface ResolvedRequest extends Request {
  /** The app named by the `app_id` header (AppGuard). */
  tenant?: AppEntity;
  /** The caller behind `access-token` (CallerGuard). */
  caller?: Caller;
  /** The caller and the identity it acts as, after the impersonation headers (CallerGuard). */
  principal?: Principal;
  /** The shape-checked impersonation headers, as decimal strings. */
  impersonation?: { groupId?: string; userId?: string };
  /** Set by the request-id middleware; echoed in `x-request-id` and in error logs. */
  requestId?: string;
}
