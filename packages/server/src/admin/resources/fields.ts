import { OptionalKind, Type, type ObjectOptions, type Static, type TArray, type TObject, type TOptional, type TSchema } from '@sinclair/typebox';

/**
 * The one place a wire field is described: its JSON Schema (validation, OpenAPI, the config
 * document's JSON Schema), the record property it carries and how a value crosses between the two
 * (ISO-8601 text ↔ epoch milliseconds, a prefix, a default). A resource is a table of fields; its
 * wire type, record type, schema and codec all follow from the table, so adding a field is one
 * line. A value that encodes or decodes to `undefined` is left out, so optional fields stay absent.
 */
export interface Field<Key extends string, Schema extends TSchema, Value, Wire = Static<Schema>> {
  readonly key: Key;
  readonly schema: Schema;
  // Methods (not function properties) so a table of fields of different value types is one type.
  encode(value: Value): Wire;
  decode(wire: Wire): Value;
}

type AnyField = Field<string, TSchema, unknown, unknown>;
export type Fields = Record<string, AnyField>;

type ValueOf<F> = F extends Field<string, TSchema, infer Value, unknown> ? Value : never;
type OptionalNames<F extends Fields> = { [W in keyof F]: undefined extends ValueOf<F[W]> ? W : never }[keyof F];
type Flatten<T> = { [K in keyof T]: T[K] };

/** The record side of a table: the fields' record keys and values; a value that may be undefined is optional. */
export type RecordOf<F extends Fields> = Flatten<
  { [W in Exclude<keyof F, OptionalNames<F>> as F[W]['key']]: ValueOf<F[W]> } & {
    [W in OptionalNames<F> as F[W]['key']]?: Exclude<ValueOf<F[W]>, undefined>;
  }
>;

export type PropertiesOf<F extends Fields> = { [W in keyof F & string]: F[W]['schema'] };
/** The wire side of a table: what the JSON Schema describes. */
export type WireOf<F extends Fields> = Static<TObject<PropertiesOf<F>>>;

const same = <T>(value: T) => value;

/** A field carried as is, under a record key of its own. */
export function field<Key extends string, Schema extends TSchema>(key: Key, schema: Schema): Field<Key, Schema, Static<Schema>> {
  return { key, schema, encode: same, decode: same };
}

/** A field a message may leave out. */
export function optional<Key extends string, Schema extends TSchema>(
  key: Key,
  schema: Schema,
): Field<Key, TOptional<Schema>, Static<Schema> | undefined, Static<Schema> | undefined> {
  const optionalSchema: TOptional<Schema> = { ...schema, [OptionalKind]: 'Optional' };
  return { key, schema: optionalSchema, encode: same, decode: same };
}

/** A field whose value changes on the way (the two functions are each other's inverse). */
export function mapped<Key extends string, Schema extends TSchema, Value, Wire = Static<Schema>>(
  key: Key,
  schema: Schema,
  codec: { encode(value: Value): Wire; decode(wire: Wire): Value },
): Field<Key, Schema, Value, Wire> {
  return { key, schema, encode: codec.encode, decode: codec.decode };
}

/** The JSON Schema of a table: an object that refuses unknown fields. */
export function objectOf<F extends Fields>(fields: F, options: ObjectOptions = {}): TObject<PropertiesOf<F>> {
  const properties: Record<string, TSchema> = {};
  for (const [name, entry] of Object.entries(fields)) properties[name] = entry.schema;
  // The loop builds exactly PropertiesOf<F>; TypeScript cannot follow Object.entries.
  return Type.Object(properties as PropertiesOf<F>, { additionalProperties: false, ...options });
}

export interface Codec<F extends Fields> {
  readonly fields: F;
  readonly schema: TObject<PropertiesOf<F>>;
  toWire(record: RecordOf<F>): WireOf<F>;
  fromWire(wire: WireOf<F>): RecordOf<F>;
}

/** Schema and both directions of a table: records ↔ the JSON the admin API, `--json` and the remote client speak. */
export function codec<F extends Fields>(fields: F, options: ObjectOptions = {}): Codec<F> {
  const entries = Object.entries(fields);
  const convert = (pick: (name: string, entry: AnyField) => [string, unknown]) => {
    const out: Record<string, unknown> = {};
    for (const [name, entry] of entries) {
      const [key, value] = pick(name, entry);
      if (value !== undefined) out[key] = value;
    }
    return out;
  };
  return {
    fields,
    schema: objectOf(fields, options),
    // The casts state what the loops build, key by key, from the same table.
    toWire: (record) => convert((name, entry) => [name, entry.encode((record as Record<string, unknown>)[entry.key])]) as WireOf<F>,
    fromWire: (wire) => convert((name, entry) => [entry.key, entry.decode((wire as Record<string, unknown>)[name])]) as RecordOf<F>,
  };
}

/** A field that holds another resource. */
export function nested<Key extends string, F extends Fields>(key: Key, inner: Codec<F>): Field<Key, TObject<PropertiesOf<F>>, RecordOf<F>> {
  return mapped(key, inner.schema, { encode: inner.toWire, decode: inner.fromWire });
}

/** A field that holds a list of another resource. */
export function listOf<Key extends string, F extends Fields>(key: Key, inner: Codec<F>): Field<Key, TArray<TObject<PropertiesOf<F>>>, RecordOf<F>[]> {
  return mapped(key, Type.Array(inner.schema), {
    encode: (items: RecordOf<F>[]) => items.map(inner.toWire),
    decode: (items: WireOf<F>[]) => items.map(inner.fromWire),
  });
}
