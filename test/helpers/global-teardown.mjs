export default async function globalTeardown() {
  await Promise.all([globalThis.__plansyncPg?.stop(), globalThis.__plansyncKube?.stop()]);
}
