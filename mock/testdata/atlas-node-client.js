// Drives the npm package mongodb-atlas-api-client, unchanged, against the
// opsconform mock: only its baseUrl points at the mock. Prints one JSON
// object with each step's answer, for mock/nodeclient_test.go to judge.
// Environment: BASE_URL, PUBLIC_KEY, PRIVATE_KEY, ORG_ID, PROJECT_ID.
"use strict";
const getClient = require("mongodb-atlas-api-client");

async function main() {
  const env = process.env;
  const opts = {publicKey: env.PUBLIC_KEY, privateKey: env.PRIVATE_KEY, baseUrl: env.BASE_URL, projectId: env.PROJECT_ID};
  const c = getClient(opts);
  const wrong = getClient({...opts, privateKey: "00000000-0000-4000-8000-000000000000"});
  const out = {};
  out.orgsByName = await c.organization.getAll({name: "Docs"});
  out.orgsNoSuchName = await c.organization.getAll({name: "NoSuchOrg"});
  out.org = await c.organization.getById(env.ORG_ID);
  out.orgProjects = await c.organization.getAllProjectsForOrganization(env.ORG_ID);
  out.orgUsers = await c.organization.getAllUsersForOrganization(env.ORG_ID);
  out.projects = await c.project.getAll();
  out.project = await c.project.getById(env.PROJECT_ID);
  out.projectByName = await c.project.getByName("docs-prod");
  out.projectTeams = await c.project.getTeamsByProjectId(env.PROJECT_ID);
  out.projectUsers = await c.atlasUser.getAll();
  // Paging as a client does: page after page until there is no next link.
  out.userPages = [];
  for (let page = 1; page <= 20; page++) {
    const r = await c.organization.getAllUsersForOrganization(env.ORG_ID, {itemsPerPage: 3, pageNum: page});
    out.userPages.push(r);
    if (!(r.links || []).some((l) => l.rel === "next")) {
      break;
    }
  }
  // Errors come back as the vendor's error documents.
  out.wrongKey = await wrong.organization.getAll();
  out.projectNotVisible = await c.project.getByName("platform-prod");
  out.otherOrg = await c.organization.getById("5980cfe20b6d97029d82fa63");
  process.stdout.write(JSON.stringify(out));
}

main().catch((err) => {
  process.stderr.write(String(err && err.stack || err) + "\n");
  process.exit(1);
});
