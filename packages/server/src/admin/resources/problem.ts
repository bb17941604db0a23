import { Type } from '@sinclair/typebox';

/** RFC 9457 problem details, as every admin error answers (errors/problem-details.ts writes them). */
export const Problem = Type.Object(
  {
    type: Type.String({ description: 'Stable URN per error, e.g. urn:m2m-auth:problem:validation-failed' }),
    title: Type.String(),
    status: Type.Integer(),
    detail: Type.Optional(Type.String()),
    errors: Type.Optional(Type.Array(Type.Object({ field: Type.String(), message: Type.String() }, { additionalProperties: false }))),
  },
  { description: 'RFC 9457 problem details' },
);
