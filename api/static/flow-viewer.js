// The flow viewer (/ui/flows, api/routes/flow_viewer.py): the active flows drawn as graphs,
// the last refused edit of the flows folder, and simulations shown on their flow's graph.
// Everything it shows comes from the flow routes, called with the tab's credential.
"use strict";
(() => {
  const $ = (id) => document.getElementById(id);
  const VISITED = "visited"; // the Mermaid class of the nodes a simulation went through
  const flows = new Map(); // name -> {summary (from the list), mermaid (the graph's text)}
  let drawn = 0; // Mermaid needs a fresh element id for every drawing
  let loads = 0; // only the latest load shows what it read

  mermaid.initialize({startOnLoad: false, securityLevel: "strict", theme: "neutral"});

  // --- calls ------------------------------------------------------------------------------

  // A call of the API with the tab's credential. `needs` says who may make it, for a 403.
  async function call(method, path, needs, body) {
    const init = {method, headers: {...ticketflowCredential.headers()}};
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    let response;
    try {
      response = await fetch(path, init);
    } catch (error) {
      throw new Error(`The API did not answer ${method} ${path} (${error.message}).`);
    }
    const answer = await response.json().catch(() => null);
    if (response.ok) return answer;
    throw new Error(explain(response.status, answer, needs, `${method} ${path}`));
  }

  function explain(status, answer, needs, what) {
    const said = answer && answer.error ? answer.error : "";
    const details = ((answer && answer.details) || [])
      .map((d) => (d.field ? `${d.field}: ${d.message}` : d.message)).join("; ");
    if (status === 401) {
      return ticketflowCredential.get()
        ? `The API refused this credential (401: ${said}). Enter another key above.`
        : `Enter an API key above: ${needs}.`;
    }
    if (status === 403) return `This credential may not do that (403): ${needs}.`;
    if (status === 429) return `Too many requests (429): ${said}. Try again in a moment.`;
    return `${what} answered ${status}: ${said}${details ? ` (${details})` : ""}`;
  }

  function say(element, text) {
    element.textContent = text;
    element.hidden = !text;
  }

  // --- the flows and the folder -------------------------------------------------------------

  async function load() {
    const mine = ++loads;
    say($("message"), "");
    $("simulation").hidden = true; // a simulation of the flows as they were
    if (!ticketflowCredential.get()) {
      clear();
      say($("message"), "Enter an API key above (admin, agent or integration) to see the flows.");
      return;
    }
    const needs = "reading flows needs an admin, agent or integration key";
    try {
      const listed = await call("GET", "/api/flows", needs);
      const graphs = await Promise.all(listed.items.map(
        (f) => call("GET", `/api/flows/${encodeURIComponent(f.name)}`, needs)));
      if (mine !== loads) return;
      flows.clear();
      listed.items.forEach((summary, i) => flows.set(summary.name, {summary, mermaid: graphs[i].mermaid}));
      showFolder(listed.refused);
      await showFlows();
      $("loaded").textContent = `as of ${new Date().toLocaleTimeString()}`;
    } catch (error) {
      if (mine !== loads) return;
      clear();
      say($("message"), error.message);
    }
  }

  function clear() {
    flows.clear();
    $("flows").replaceChildren();
    $("folder-state").textContent = "";
    $("refused").hidden = true;
    $("loaded").textContent = "";
    fillFlowChoice();
  }

  function showFolder(refused) {
    const problems = refused ? refused.problems : [];
    $("refused").hidden = !refused;
    $("folder-state").textContent = refused
      ? `The last edit of the flows folder was refused (${problems.length} problem${problems.length === 1 ? "" : "s"}).`
      : "The flows folder on disk is the active set.";
    $("folder-state").className = refused ? "bad" : "good";
    $("problems").replaceChildren(...problems.map((p) => row([
      p.line ? `${p.file}:${p.line}:${p.column}` : p.file, p.step || "", p.message])));
  }

  async function showFlows() {
    const articles = [];
    for (const [name, flow] of flows) {
      const s = flow.summary;
      const article = element("article", {className: "flow", id: `flow-${name}`});
      article.dataset.flow = name;
      article.append(element("h2", {textContent: name}));
      if (s.description) article.append(element("p", {textContent: s.description}));
      const facts = element("dl");
      for (const [term, value] of [["version", s.version], ["digest", s.digest],
        ["when", s.default ? "(default: every other ticket)" : s.when], ["order", s.order]]) {
        facts.append(element("dt", {textContent: term}),
          element("dd", {textContent: value === "" || value == null ? "(not set)" : String(value),
            className: term}));
      }
      const warnings = element("ul", {className: "warnings"});
      warnings.append(...(s.warnings || []).map((w) => element("li", {textContent: w})));
      article.append(facts, warnings, element("div", {className: "graph"}));
      articles.push(article);
    }
    $("flows").replaceChildren(...articles);
    fillFlowChoice();
    for (const name of flows.keys()) await draw(name, []);
  }

  // Draws a flow's graph; the steps of `path` carry the VISITED class.
  async function draw(name, path) {
    const graph = document.querySelector(`#flow-${CSS.escape(name)} .graph`);
    let text = flows.get(name).mermaid;
    if (path.length) {
      text += `  classDef ${VISITED} fill:#ffd966,stroke:#b45f06,stroke-width:3px\n`
        + `  class ${path.join(",")} ${VISITED}\n`;
    }
    graph.dataset.path = path.join(" ");
    const id = `graph-${++drawn}`;
    try {
      const {svg} = await mermaid.render(id, text);
      graph.innerHTML = svg; // Mermaid's output, sanitised by it (securityLevel strict)
      // Each node names its step (Mermaid's own ids are `<graph>-flowchart-<step>-<n>`).
      const prefix = `${id}-flowchart-`;
      for (const node of graph.querySelectorAll("g.node")) {
        if (node.id.startsWith(prefix)) node.dataset.step = node.id.slice(prefix.length).replace(/-\d+$/, "");
      }
    } catch (error) {
      graph.replaceChildren(element("p", {className: "bad",
        textContent: `This graph could not be drawn: ${error.message}`}));
    }
  }

  function fillFlowChoice() {
    const select = document.querySelector("#simulate select[name=flow]");
    const chosen = select.value;
    select.replaceChildren(select.options[0],
      ...[...flows.keys()].map((name) => element("option", {value: name, textContent: name})));
    select.value = flows.has(chosen) ? chosen : "";
  }

  // --- simulations --------------------------------------------------------------------------

  async function simulate(event) {
    event.preventDefault();
    const form = event.target;
    say($("simulate-message"), "");
    let body;
    try {
      body = JSON.parse(form.body.value);
    } catch (error) {
      say($("simulate-message"), `The request body is not JSON: ${error.message}`);
      return;
    }
    if (form.flow.value) body.flow = form.flow.value;
    try {
      const result = await call("POST", "/api/flows/simulate",
        "simulating needs an admin key", body);
      await showSimulation(result);
    } catch (error) {
      $("simulation").hidden = true;
      say($("simulate-message"), error.message);
    }
  }

  async function showSimulation(result) {
    $("sim-flow").textContent = result.flow;
    $("sim-status").textContent = (result.outcome || {}).status || "";
    $("sim-path").textContent = result.path.join(" → ");
    $("sim-actions").replaceChildren(...(result.actions || []).map((a) => {
      const {at, step, action, ...rest} = a;
      return row([at || "", step || "", action || "", JSON.stringify(rest)]);
    }));
    $("sim-json").textContent = JSON.stringify(result, null, 2);
    $("simulation").hidden = false;
    // One flow at a time carries a path: the others are drawn plain again.
    for (const name of flows.keys()) {
      const path = name === result.flow ? result.path : [];
      const graph = document.querySelector(`#flow-${CSS.escape(name)} .graph`);
      if (path.length || graph.dataset.path) await draw(name, path);
    }
    const article = $(`flow-${result.flow}`);
    if (article) article.scrollIntoView({block: "nearest"});
  }

  // --- helpers ------------------------------------------------------------------------------

  function element(tag, properties = {}) {
    return Object.assign(document.createElement(tag), properties);
  }

  function row(cells) {
    const tr = element("tr");
    tr.append(...cells.map((text) => element("td", {textContent: String(text)})));
    return tr;
  }

  ticketflowCredential.attach($("key"), load);
  $("reload").addEventListener("click", load);
  $("simulate").addEventListener("submit", simulate);
  load();
})();
