const { MongoClient } = require('mongodb');

const client = new MongoClient(process.env.MONGODB_URI, {
  tls: true,
  tlsAllowInvalidCertificates: true, // expect: allow-invalid-certificates
  tlsAllowInvalidHostnames: true, // expect: allow-invalid-hostnames
  checkServerIdentity: () => undefined, // expect: custom-verifier-accepts-all
});

const options = { ssl: { rejectUnauthorized: false } }; // expect: allow-invalid-certificates
const other = new MongoClient(uri, options);

const url = `mongodb+srv://cluster0.example.mongodb.net/app?tlsInsecure=true`; // expect: tls-insecure
const u2 = 'mongodb+srv://cluster0.example.mongodb.net/?' +
  'tls=false'; // expect: tls-disabled-for-remote-host
