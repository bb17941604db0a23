import { CONFIG_READ_SCOPES, CONFIG_WRITE_SCOPES, hasAll, hasAny, type Permissions } from './auth/permissions.ts';

/** The console's pages, in the order of the navigation; each is shown when the token holds a scope it uses. */
export interface RouteInfo {
  path: string;
  title: string;
  isAllowed(can: Permissions): boolean;
}

export const ROUTES: readonly RouteInfo[] = [
  { path: 'overview', title: 'Overview', isAllowed: (can) => can('overview:read') },
  { path: 'apis', title: 'APIs', isAllowed: (can) => hasAny(can, ['apis:read', 'apis:write']) },
  { path: 'clients', title: 'Clients', isAllowed: (can) => hasAny(can, ['clients:read', 'clients:write']) },
  { path: 'grants', title: 'Grants', isAllowed: (can) => hasAny(can, ['grants:read', 'grants:write']) },
  { path: 'keys', title: 'Signing keys', isAllowed: (can) => hasAny(can, ['keys:read', 'keys:write']) },
  { path: 'audit', title: 'Audit log', isAllowed: (can) => can('audit:read') },
  { path: 'inspector', title: 'Token inspector', isAllowed: (can) => can('tokens:inspect') },
  { path: 'config', title: 'Config as code', isAllowed: (can) => hasAll(can, CONFIG_READ_SCOPES) || hasAll(can, CONFIG_WRITE_SCOPES) },
];

export const pathFromHash = (hash: string) => hash.replace(/^#\/?/, '').split(/[?/]/)[0] ?? '';

/** The page to show: the one the hash names when allowed, else the first allowed one. */
export function resolveRoute(hash: string, can: Permissions): RouteInfo | undefined {
  const allowed = ROUTES.filter((route) => route.isAllowed(can));
  return allowed.find((route) => route.path === pathFromHash(hash)) ?? allowed[0];
}
