import https from 'node:https';
import { Pool } from 'pg';
import { MongoClient } from 'mongodb';

// new MongoClient(uri, { tlsAllowInvalidCertificates: true })
/* tlsInsecure: true */
const agent = new https.Agent({ rejectUnauthorized: false, checkServerIdentity: () => undefined });
const pool = new Pool({ ssl: { rejectUnauthorized: false } });
const a = new MongoClient(uri, { tlsAllowInvalidCertificates: process.env.MONGODB_TLS_INSECURE === 'true' });
const b = new MongoClient(uri, { tlsInsecure: false, tlsAllowInvalidHostnames: 'false' === flag });
const c = new MongoClient('mongodb://localhost:27017/?tls=false');
const d = { tlsAllowInvalidCertificatesBanner: true, showTlsInsecure: true };
interface Opts { tlsInsecure?: boolean }
const e = new MongoClient(uri, { tlsInsecure: isDev ? true : false });
const f = new MongoClient(`mongodb+srv://${process.env.ATLAS_HOST}/?tls=false`);
