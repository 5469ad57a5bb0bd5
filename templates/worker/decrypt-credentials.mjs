// Opens the SERVICE_CREDENTIALS secret that `mcpdeploy provision` / `mcpdeploy secrets encrypt` write.
// Plain JavaScript on WebCrypto only (globalThis.crypto.subtle), so it runs in Workers and in Node >= 20.
//
// Usage in a Worker:
//   import { decryptServiceCredentials } from "./decrypt-credentials.mjs";
//   const services = await decryptServiceCredentials(env.SERVICE_CREDENTIALS, env.SERVICE_CREDENTIALS_KEY);
//   const { api_key, base_url } = services.xano.credentials;
//
// Value format (version 1), per service: "v1:<key id>:<nonce b64>:<ciphertext+tag b64>", AES-256-GCM,
// associated data "mcpdeploy-credentials/v1/<service>/<environment>" (environment empty unless bound).
// The mcpdeploy README documents it in full. Errors name the service, never a key or a value.

const VERSION = "v1";
const NAME = /^[A-Za-z0-9_.-]{1,64}$/;
const encoder = new TextEncoder();

function fromBase64(text, what) {
  if (typeof text !== "string" || !/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 !== 0) {
    throw new Error(`SERVICE_CREDENTIALS: ${what} is not base64`);
  }
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

function hex(buffer) {
  return Array.from(new Uint8Array(buffer), (b) => b.toString(16).padStart(2, "0")).join("");
}

async function keyIdOf(rawKey) {
  const label = encoder.encode("mcpdeploy-key-id:");
  const material = new Uint8Array(label.length + rawKey.length);
  material.set(label);
  material.set(rawKey, label.length);
  return hex(await crypto.subtle.digest("SHA-256", material)).slice(0, 12);
}

async function openValue(cryptoKey, currentKeyId, service, value, environment) {
  const parts = typeof value === "string" ? value.split(":") : [];
  if (typeof value === "string" && value.startsWith("encrypted:")) {
    throw new Error(`SERVICE_CREDENTIALS[${service}]: legacy 'encrypted:' value is not encrypted; ` +
      "re-encrypt it with `mcpdeploy secrets encrypt`");
  }
  if (parts.length !== 4 || parts[0] !== VERSION) {
    throw new Error(`SERVICE_CREDENTIALS[${service}]: unknown format or version (expected ${VERSION})`);
  }
  const [, valueKeyId, nonceB64, sealedB64] = parts;
  if (valueKeyId !== currentKeyId) {
    throw new Error(`SERVICE_CREDENTIALS[${service}]: encrypted with key ${valueKeyId}, ` +
      `but the key given is ${currentKeyId}`);
  }
  const nonce = fromBase64(nonceB64, `the nonce of ${service}`);
  const sealed = fromBase64(sealedB64, `the ciphertext of ${service}`);
  const additionalData = encoder.encode(`mcpdeploy-credentials/${VERSION}/${service}/${environment ?? ""}`);
  let plaintext;
  try {
    plaintext = await crypto.subtle.decrypt({ name: "AES-GCM", iv: nonce, additionalData, tagLength: 128 },
      cryptoKey, sealed);
  } catch {
    throw new Error(`SERVICE_CREDENTIALS[${service}]: authentication failed (the value was altered, ` +
      "or it was made for another service or environment)");
  }
  const credentials = JSON.parse(new TextDecoder().decode(plaintext));
  if (credentials === null || typeof credentials !== "object" || Array.isArray(credentials)) {
    throw new Error(`SERVICE_CREDENTIALS[${service}]: credentials are not a JSON object`);
  }
  return credentials;
}

/**
 * Decrypt every service of a SERVICE_CREDENTIALS document.
 * @param {string} serviceCredentialsJson the secret's text: {"<service>": {"service_name", "auth_type",
 *   "credentials_encrypted": "v1:..."}, ...}
 * @param {string} keyBase64 the 32-byte AES key in standard base64 (SERVICE_CREDENTIALS_KEY)
 * @param {{environment?: string}} [options] the environment name, only if it was bound when encrypting
 * @returns {Promise<Object>} the same map, each entry with `credentials` (an object) instead of
 *   `credentials_encrypted`
 */
export async function decryptServiceCredentials(serviceCredentialsJson, keyBase64, options = {}) {
  const environment = options.environment;
  if (environment !== undefined && !NAME.test(environment)) {
    throw new Error("SERVICE_CREDENTIALS: the environment name is not valid");
  }
  let document;
  try {
    document = JSON.parse(serviceCredentialsJson);
  } catch {
    throw new Error("SERVICE_CREDENTIALS is not valid JSON");
  }
  if (document === null || typeof document !== "object" || Array.isArray(document)) {
    throw new Error("SERVICE_CREDENTIALS must be a JSON object of services");
  }
  const rawKey = fromBase64(typeof keyBase64 === "string" ? keyBase64.trim() : keyBase64, "the key");
  if (rawKey.length !== 32) throw new Error("SERVICE_CREDENTIALS key must be 32 bytes (base64)");
  const cryptoKey = await crypto.subtle.importKey("raw", rawKey, "AES-GCM", false, ["decrypt"]);
  const currentKeyId = await keyIdOf(rawKey);
  const result = {};
  for (const [service, entry] of Object.entries(document)) {
    if (!NAME.test(service)) throw new Error("SERVICE_CREDENTIALS: a service name is not valid");
    if (entry === null || typeof entry !== "object" || typeof entry.credentials_encrypted !== "string") {
      throw new Error(`SERVICE_CREDENTIALS[${service}]: no credentials_encrypted string`);
    }
    const { credentials_encrypted: sealed, ...rest } = entry;
    result[service] = { ...rest, credentials: await openValue(cryptoKey, currentKeyId, service, sealed, environment) };
  }
  return result;
}
