import { Type, type Static } from '@sinclair/typebox';

const Tenant = Type.String({ minLength: 1, pattern: '^[A-Za-z0-9_-]+$' });

/**
 * A pattern list: exact names, `*` for all, or a prefix ending in `*` (`/v1/jobs*`, `docs-*`).
 * Route templates are Fastify's (`/v1/jobs/:id`), so `/v1/jobs*` covers a route family.
 */
const Patterns = Type.Array(Type.String({ minLength: 1 }), { default: ['*'] });

/** Per-key limits; a limit left out does not apply (the global ones still do). */
export const KeyLimitsSchema = Type.Object(
  {
    /** Sustained requests per second... */
    requests_per_s: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
    /** ...and how many may come at once above it (default: one second's worth). */
    burst: Type.Optional(Type.Integer({ minimum: 1 })),
    /** Answer streams open at once (SSE, WebSocket, gRPC server streams). */
    concurrent_streams: Type.Optional(Type.Integer({ minimum: 1 })),
    /** Generated tokens per clock minute, counted when each answer ends. */
    tokens_per_minute: Type.Optional(Type.Integer({ minimum: 1 })),
    /**
     * Request shaping: caps on one request, below the global ones (a key can only narrow them).
     * Body bytes of an HTTP request or WebSocket frame...
     */
    max_body_bytes: Type.Optional(Type.Integer({ minimum: 1 })),
    /** ...characters of each text a model reads (question, query, message, input to embed)... */
    max_text_chars: Type.Optional(Type.Integer({ minimum: 1 })),
    /** ...passages asked for (`top_k`)... */
    max_top_k: Type.Optional(Type.Integer({ minimum: 1 })),
    /** ...and tokens asked to generate (`max_tokens`, `max_completion_tokens`). */
    max_tokens: Type.Optional(Type.Integer({ minimum: 1 })),
  },
  { additionalProperties: false, default: {} },
);

/** One API key as pronto stores it: its SHA-256 only, what it may do, and its limits. */
export const ApiKeyRecordSchema = Type.Object(
  {
    /** A name for the key (logs, errors): not secret, unique. */
    id: Type.String({ minLength: 1, pattern: '^[A-Za-z0-9_.-]+$' }),
    /** Hex SHA-256 of the key (`pronto keys create` prints it); the key itself is never stored. */
    sha256: Type.String({ pattern: '^[0-9a-f]{64}$' }),
    tenant: Tenant,
    /** `operator` may also read what spans every tenant (/stats). */
    role: Type.Union([Type.Literal('tenant'), Type.Literal('operator')], { default: 'tenant' }),
    routes: Patterns,
    namespaces: Patterns,
    /** May force a pipeline variant by header. */
    allow_variant_override: Type.Boolean({ default: false }),
    limits: KeyLimitsSchema,
  },
  { additionalProperties: false },
);

export type ApiKeyRecord = Static<typeof ApiKeyRecordSchema>;
export type KeyLimits = ApiKeyRecord['limits'];

/** The pre-hash shape: a plain key in config. Still read (hashed at load); see docs/SECURITY.md. */
const PlainApiKey = Type.Object({
  key: Type.String({ minLength: 8 }),
  tenant: Tenant,
});

export const AuthSchema = Type.Object(
  {
    /** Key records (hashes). With none here, in keys_file or in api_keys: no auth, every caller is `public`. */
    keys: Type.Array(ApiKeyRecordSchema, { default: [] }),
    /** A YAML/JSON file holding a list of key records, re-read on SIGHUP and whenever it changes. */
    keys_file: Type.Optional(Type.String({ minLength: 1 })),
    /** Deprecated: plain keys, each read as a `tenant` key with every route and namespace. */
    api_keys: Type.Array(PlainApiKey, { default: [] }),
    /** With no keys, serve a non-loopback server.host anyway (refused at start otherwise). */
    allow_anonymous: Type.Boolean({ default: false }),
  },
  { default: {} },
);

export type AuthConfig = Static<typeof AuthSchema>;
