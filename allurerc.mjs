// Allure 3 configuration for `make report` (allure 3.18.0 from package-lock.json).
//
// Allure 3 ignores a categories.json in the results directory: categories live here, built from
// allure-categories.json (the one list of rules; tests/test_allure_categories.py proves each
// rule against a real failure of its kind). Rules are tried in order and the first match wins;
// a rule's pattern is searched in the failure message and in the trace.

import { readFileSync } from "node:fs";

const { categories: rules } = JSON.parse(
  readFileSync(new URL("./allure-categories.json", import.meta.url), "utf-8"),
);

/** One Allure 3 category from a rule of allure-categories.json. */
const category = (rule) => {
  if (rule.messageless) {
    const matchers = (d) => rule.statuses.includes(d.status) && !d.message && !d.trace;
    return { name: rule.name, matchers };
  }
  const matchers = rule.pattern
    ? [
        { statuses: rule.statuses, message: new RegExp(rule.pattern) },
        { statuses: rule.statuses, trace: new RegExp(rule.pattern) },
      ]
    : { statuses: rule.statuses };
  const built = { name: rule.name, matchers };
  if (rule.groupBy) {
    built.groupBy = rule.groupBy.map((key) => (key === "severity" ? key : { label: key }));
    built.groupByMessage = false;
  }
  if (rule.expand) built.expand = true;
  return built;
};

// History across runs (trend graphs, flaky and new-failure markers): `make report
// HISTORY=path/history.jsonl` reads and extends that file; keep it between CI runs (a cache or
// an artifact). Without it, each report stands alone.
const historyPath = process.env.ALLURE_HISTORY_PATH;
const history = historyPath ? { historyPath } : {};

/** @type {import("allure").AllureConfig} */
export default {
  name: "PingOne user-password conformance",
  output: "reports/allure-report",
  ...history,
  plugins: {
    awesome: {
      options: {
        reportName: "PingOne user-password conformance",
        singleFile: true,
        reportLanguage: "en",
        groupBy: ["feature", "story"],
      },
    },
  },
  categories: rules.map(category),
};
