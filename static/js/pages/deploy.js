// Deploy: app packages (upload, revisions, installs followed step by step), the deployments
// the supervisor runs (state, resources, actions, output) and the remote runners. Each part is
// its own module; this page lays them out and lets "deploy this revision" travel between them.
import { h } from "../dom.js";
import { N_ } from "../i18n.js";
import { mountDeployments } from "../parts/deploy-apps.js";
import { mountPackages } from "../parts/deploy-packages.js";
import { mountRunners } from "../parts/deploy-runners.js";

export const title = N_("panel.deploy.title");

export function mount(root, ctx) {
  const { t } = ctx;
  const packages = h("div", { class: "stack deploy-part" });
  const deployments = h("div", { class: "stack deploy-part" });
  const runners = h("div", { class: "stack deploy-part" });
  root.append(
    h("div", { class: "page-head" }, h("h1", {}, t("panel.deploy.title")), h("p", { class: "muted" }, t("panel.deploy.intro"))),
    packages,
    deployments,
    runners,
  );
  const apps = mountDeployments(deployments, ctx);
  const unmounts = [apps.unmount, mountPackages(packages, ctx, { deploy: apps.create }), mountRunners(runners, ctx)];
  return () => unmounts.forEach((unmount) => unmount());
}
