import { randomBytes } from 'node:crypto';

/** Client ids are public but unguessable, so an id alone reveals nothing about other clients. */
export function generateClientId(): string {
  return randomBytes(12).toString('hex');
}

/** Opaque record ids (grants, secrets, audit events). */
export function generateRecordId(prefix: string): string {
  return `${prefix}_${randomBytes(9).toString('base64url')}`;
}
