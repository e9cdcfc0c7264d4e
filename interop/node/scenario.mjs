// The scenario of ../clientgo_test.go with the official TypeScript SDK,
// @ory/client-fetch: prints one transcript line per step, in the same
// format, so that ../run.sh can compare it with ../testdata/transcript.txt
// (what a real Kratos v26.2.0 answered) and with a live server's.
//
//   node scenario.mjs ADMIN_URL PUBLIC_URL
import { createHash, pbkdf2Sync } from "node:crypto";
import {
  Configuration, IdentityApi, FrontendApi, ResponseError,
  CreateIdentityBodyFromJSON, UpdateIdentityBodyFromJSON, PatchIdentitiesBodyFromJSON,
} from "@ory/client-fetch";

const [adminURL, publicURL] = process.argv.slice(2);
if (!adminURL || !publicURL) {
  console.error("usage: node scenario.mjs ADMIN_URL PUBLIC_URL");
  process.exit(2);
}
const adm = new IdentityApi(new Configuration({ basePath: adminURL }));
const pub = new FrontendApi(new Configuration({ basePath: publicURL }));
const run = `r${process.hrtime.bigint()}`;
const pw = "correct-horse-battery-staple-42";
const email = (name) => `${name}-${run}@example.org`;
const lines = [];
const ids = [];

const goList = (xs) => `[${xs.join(" ")}]`;
const goQuote = (s) => JSON.stringify(s ?? "");

// call runs one step: a Raw SDK method, and a summary of its value.
async function call(step, fn, summarize = () => "") {
  let line;
  let value;
  try {
    const r = await fn();
    value = r.value ? await r.value() : undefined;
    line = `${step} | ${r.raw.status} | ${summarize(value)}`;
  } catch (e) {
    if (!(e instanceof ResponseError)) {
      line = `${step} | 0 | sdk error: ${e.message}`;
    } else {
      const status = e.response.status;
      let b = {};
      try { b = await e.response.json(); } catch { /* not JSON */ }
      const err = b.error ?? {};
      const reason = (err.reason ?? "").split("\n")[0];
      line = `${step} | ${status} | error code=${err.code ?? 0} id=${goQuote(err.id)} reason=${goQuote(reason)} message=${goQuote(err.message)} details=${goList(Object.keys(err.details ?? {}).sort())}`;
      for (const m of b.ui?.messages ?? []) line += ` ui=${m.id}`;
    }
  }
  lines.push(line.replaceAll(run, "RUN"));
  return value;
}

function identitySummary(i) {
  if (!i) return "nil";
  const creds = Object.keys(i.credentials ?? {}).sort();
  const addrs = (i.verifiable_addresses ?? []).map((a) => `${a.value}/${a.status}/${a.verified}`);
  let s = `state=${i.state} schema=${i.schema_id} traits=${JSON.stringify(i.traits)} credentials=${goList(creds)} addresses=${goList(addrs)}`;
  const h = i.credentials?.password?.config?.hashed_password;
  if (h) s += ` hash=${h.slice(0, 7)}`;
  return s;
}

function pbkdf2Hash() {
  const salt = Buffer.from("interop-salt");
  const key = pbkdf2Sync(pw, salt, 1000, 32, "sha256");
  const raw = (b) => b.toString("base64").replace(/=+$/, "");
  return `$pbkdf2-sha256$i=1000,l=32$${raw(salt)}$${raw(key)}`;
}

function sshaHash() {
  const salt = Buffer.from("saltsalt");
  const d = createHash("sha1").update(Buffer.concat([Buffer.from(pw), salt])).digest();
  return "{SSHA}" + Buffer.concat([d, salt]).toString("base64");
}

const create = async (step, body) => {
  const i = await call(step, () => adm.createIdentityRaw({ createIdentityBody: CreateIdentityBodyFromJSON(body) }), identitySummary);
  if (i) ids.push(i.id);
  return i;
};

try {
  const withPw = { password: { config: { password: pw } } };
  const a = await create("create a", { schema_id: "default", external_id: `ext-${run}`, traits: { email: email("a") }, metadata_public: { plan: "free" }, credentials: withPw });
  await create("create a again", { schema_id: "default", traits: { email: email("a") } });
  await create("create invalid email", { schema_id: "default", traits: { email: "not-an-email" } });
  const b = await create("create b pbkdf2", { schema_id: "default", traits: { email: email("b") }, credentials: { password: { config: { hashed_password: pbkdf2Hash() } } } });
  const c = await create("create c inactive ssha", { schema_id: "default", state: "inactive", traits: { email: email("c") }, credentials: { password: { config: { hashed_password: sshaHash() } } } });
  const d = await create("create d quoted", { schema_id: "default", traits: { email: `"d ${run}"@example.org` }, credentials: withPw });
  await create("create e leading space", { schema_id: "default", traits: { email: " " + email("e") } });
  if (!a || !b || !c || !d) throw new Error("creates failed:\n" + lines.join("\n"));

  await call("get a with password", () => adm.getIdentityRaw({ id: a.id, includeCredential: ["password"] }), identitySummary);
  await call("list by identifier", () => adm.listIdentitiesRaw({ credentialsIdentifier: email("a") }), (l) => `n=${l.length}`);
  await call("list by ids", () => adm.listIdentitiesRaw({ ids: [a.id, b.id] }), (l) => `n=${l.length}`);
  await call("get by external id", () => adm.getIdentityByExternalIDRaw({ externalID: `ext-${run}` }), identitySummary);
  await call("get by unknown external id", () => adm.getIdentityByExternalIDRaw({ externalID: `none-${run}` }));
  await call("patch replace without value", () => adm.patchIdentityRaw({ id: a.id, jsonPatch: [{ op: "replace", path: "/metadata_public" }] }), identitySummary);
  await call("patch metadata", () => adm.patchIdentityRaw({ id: a.id, jsonPatch: [{ op: "replace", path: "/metadata_public", value: { plan: "pro" } }] }),
    (i) => identitySummary(i) + ` metadata=map[${Object.entries(i.metadata_public ?? {}).map(([k, v]) => `${k}:${v}`).join(" ")}]`);
  await call("update d", () => adm.updateIdentityRaw({ id: d.id, updateIdentityBody: UpdateIdentityBodyFromJSON({ schema_id: "default", state: "active", traits: { email: `"D ${run}"@example.org` } }) }), identitySummary);
  await call("batch new and duplicate", () => adm.batchPatchIdentitiesRaw({
    patchIdentitiesBody: PatchIdentitiesBodyFromJSON({ identities: [{ create: { schema_id: "default", traits: { email: email("f") } } }, { create: { schema_id: "default", traits: { email: email("a") } } }] }),
  }), (r) => {
    for (const x of r.identities ?? []) if (x.identity) ids.push(x.identity);
    return `actions=${goList((r.identities ?? []).map((x) => x.action))}`;
  });

  const login = async (step, identifier, password) => {
    let flow;
    try {
      flow = await pub.createNativeLoginFlow();
    } catch (e) {
      lines.push(`${step} (flow) | 0 | sdk error: ${e.message}`);
      return undefined;
    }
    return call(step, () => pub.updateLoginFlowRaw({ flow: flow.id, updateLoginFlowBody: { method: "password", identifier, password } }),
      (s) => `token=${s.session_token !== undefined} active=${s.session.active} aal=${s.session.authenticator_assurance_level} methods=${(s.session.authentication_methods ?? []).length} identity=${identitySummary(s.session.identity)}`);
  };
  const sa = await login("login a", email("a"), pw);
  await login("login a wrong password", email("a"), "wrong-" + pw);
  await login("login b pbkdf2", email("b"), pw);
  await call("get b after login", () => adm.getIdentityRaw({ id: b.id, includeCredential: ["password"] }), identitySummary);
  await login("login c inactive", email("c"), pw);
  await call("get c after login", () => adm.getIdentityRaw({ id: c.id, includeCredential: ["password"] }), identitySummary);
  await login("login d quoted", `"d ${run}"@example.org`, pw);
  await login("login unknown", email("nobody"), pw);

  if (sa) {
    const sid = sa.session.id;
    await call("list a's sessions", () => adm.listIdentitySessionsRaw({ id: a.id }), (l) => `n=${l.length}`);
    await call("get session", () => adm.getSessionRaw({ id: sid, expand: ["identity"] }), (s) => `active=${s.active} identity=${s.identity !== undefined}`);
    await call("extend session", () => adm.extendSessionRaw({ id: sid }), (s) => `active=${s?.active ?? false}`);
    await call("list active sessions", () => adm.listSessionsRaw({ active: true, expand: ["identity"] }),
      (l) => `has a's with identity=${l.some((x) => x.id === sid && x.identity !== undefined)}`);
    await call("disable session", () => adm.disableSessionRaw({ id: sid }));
    await call("get disabled session", () => adm.getSessionRaw({ id: sid }), (s) => `active=${s.active}`);
    await call("delete a's sessions", () => adm.deleteIdentitySessionsRaw({ id: a.id }));
  }

  await call("recovery code", () => adm.createRecoveryCodeForIdentityRaw({ createRecoveryCodeForIdentityBody: { identity_id: a.id } }),
    (r) => `link=${r.recovery_link.split("?")[0]} code=${r.recovery_code.length} digits`);
  await call("recovery link", () => adm.createRecoveryLinkForIdentityRaw({ createRecoveryLinkForIdentityBody: { identity_id: a.id } }),
    (r) => `link=PUBLIC${r.recovery_link.replace(publicURL, "").split("?")[0]}`);
  await call("recovery link bad return_to", () => adm.createRecoveryLinkForIdentityRaw({ returnTo: "https://evil.example/", createRecoveryLinkForIdentityBody: { identity_id: a.id } }));

  await call("list schemas", () => adm.listIdentitySchemasRaw({}), (l) => `ids=${goList(l.map((s) => s.id))}`);
  await call("get schema", () => adm.getIdentitySchemaRaw({ id: "default" }), (s) => `keys=${Object.keys(s).length}`);
  await call("get unknown schema", () => adm.getIdentitySchemaRaw({ id: "nope" }));

  await call("delete a's password", () => adm.deleteIdentityCredentialsRaw({ id: a.id, type: "password" }));
  await call("delete a's missing totp", () => adm.deleteIdentityCredentialsRaw({ id: a.id, type: "totp" }));
  await call("delete a", () => adm.deleteIdentityRaw({ id: a.id }));
  await call("get deleted a", () => adm.getIdentityRaw({ id: a.id }));
} finally {
  for (const id of ids) {
    try { await adm.deleteIdentity({ id }); } catch { /* gone already */ }
  }
}
console.log(lines.join("\n"));
