import mongoose from 'mongoose';

await mongoose.connect(process.env.MONGO_URL!, {
  ssl: true,
  sslValidate: false, // expect: allow-invalid-certificates
  tlsDisableCertificateRevocationCheck: true, // expect: revocation-check-disabled
});
