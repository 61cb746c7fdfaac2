/** Who is calling: resolved once per request from `access-token` (caller-resolver.ts). */
export type Caller =
  | { readonly kind: 'anonymous' }
  | { readonly kind: 'admin'; readonly appId: string; readonly adminTokenId: string }
  | { readonly kind: 'user'; readonly appId: string; readonly userId: number; readonly jti: string };

/** On whose behalf a request acts. */
export type Acting =
  | { readonly kind: 'anonymous' }
  | { readonly kind: 'admin' }
  | { readonly kind: 'group-admin'; readonly groupId: string }
  | { readonly kind: 'user'; readonly userId: number };

/**
 * The resolved identity of a request: who really calls (`caller`) and as whom (`acting`). They
 * differ only under the impersonation headers, and then `impersonated` is true.
 */
export interface Principal {
  readonly caller: Caller;
  readonly acting: Acting;
  readonly impersonated: boolean;
}

/** The RFC 8693 `act` claim's subject naming a real caller: `admin:<token id>` or the user id. */
export function actorSubject(caller: Caller): string | undefined {
  switch (caller.kind) {
    case 'admin':
      return `admin:${caller.adminTokenId}`;
    case 'user':
      return String(caller.userId);
    default:
      return undefined;
  }
}
