/* The SPARQL query editor: the vendored YASGUI, set up for this endpoint.
 *
 * - the endpoint is this server's /sparql, and nothing else is ever requested: no prefix.cc,
 *   no LOV autocompletion, no endpoint catalogue;
 * - the house prefixes are known to the editor (no "prefix not defined" warning for them),
 *   as they are to the endpoint;
 * - the canned queries are examples (a click opens one in a tab and runs it);
 * - the address bar keeps the query (/sparql?query=...), so a result can be shared as a link;
 * - result IRIs of this dataset link to their /id/ pages, with their Wikidata item beside them;
 * - after each run: the row count, the time, a notice when the row cap cut the result, and
 *   downloads of the full result in every format;
 * - errors show the endpoint's message, the position, and for an undeclared prefix a button
 *   that adds the PREFIX line.
 * The configuration comes from the page (<script type="application/json" id="editor-config">).
 */
(function () {
  "use strict";

  const config = JSON.parse(document.getElementById("editor-config").textContent);
  const endpoint = new URL(config.endpoint, window.location.href).href;
  const Yasgui = window.Yasgui;
  const Yasqe = Yasgui.Yasqe;
  const Yasr = Yasgui.Yasr;

  /* ---------- YASGUI defaults, before any editor exists ---------- */

  // Teach the SPARQL mode the house prefixes, so the editor reads a query as the endpoint does.
  function knowHousePrefixes(prefixes) {
    const factory = Yasqe.modes && Yasqe.modes.sparql11;
    if (!factory || factory.mqmkgHousePrefixes) return;
    const wrapped = function (cmConfig, modeConfig) {
      const mode = factory(cmConfig, modeConfig);
      const startState = mode.startState;
      return Object.assign({}, mode, {
        startState: function () {
          const state = startState.apply(mode, arguments);
          state.prefixes = Object.assign({}, prefixes, state.prefixes);
          return state;
        },
      });
    };
    wrapped.mqmkgHousePrefixes = true;
    Yasqe.defineMode("sparql11", wrapped);
  }
  knowHousePrefixes(config.prefixes);

  // Only the completers that need no other host: prefixes (from this server) and variables.
  Yasgui.defaults.yasqe.autocompleters = ["prefixes", "variables"];
  Yasgui.defaults.yasqe.prefixCcApi = config.prefixesUrl;
  Yasgui.defaults.yasqe.value = config.starter;
  Yasgui.defaults.yasqe.editorHeight = "16em";
  Yasr.defaults.errorRenderers = [renderProblem].concat(Yasr.defaults.errorRenderers || []);

  // New tabs show whole cell values (wrapped), not cut with an ellipsis.
  const tabDefaults = Yasgui.Tab.getDefaults;
  Yasgui.Tab.getDefaults = function (instance) {
    const defaults = tabDefaults.call(this, instance);
    defaults.yasr.settings.pluginsConfig = Object.assign({ table: { isEllipsed: false } }, defaults.yasr.settings.pluginsConfig);
    return defaults;
  };

  /* ---------- small DOM helpers ---------- */

  function element(tag, attributes, children) {
    const node = document.createElement(tag);
    Object.entries(attributes || {}).forEach(function ([name, value]) {
      if (name === "text") node.textContent = value;
      else node.setAttribute(name, value);
    });
    (children || []).forEach(function (child) {
      node.append(child);
    });
    return node;
  }

  function slug(text) {
    return (
      String(text || "query")
        .toLowerCase()
        .normalize("NFKD")
        .replace(/[^a-z0-9]+/g, "-")
        .replace(/^-+|-+$/g, "")
        .slice(0, 60) || "query"
    );
  }

  /* ---------- the editor ---------- */

  const yasgui = new Yasgui(document.getElementById("yasgui"), {
    requestConfig: { endpoint: endpoint, method: "POST" },
    copyEndpointOnNewTab: false,
    endpointCatalogueOptions: {
      getData: function () {
        return [{ endpoint: endpoint }];
      },
      keys: [],
    },
    persistenceId: "mqmkg-editor",
    tabName: "Query",
    autofocus: false, // keyboard users start at the skip link; Esc leaves the editor again
    yasr: { prefixes: config.prefixes, defaultPlugin: "table" },
  });

  // Tabs restored from an earlier visit keep the endpoint they were saved with: point them here.
  Object.values(yasgui._tabs).forEach(function (tab) {
    if (tab.getEndpoint() !== endpoint) tab.setEndpoint(endpoint);
  });

  /* ---------- the query in the address bar ---------- */

  function keepInAddressBar(tab) {
    const query = tab.getQuery();
    const url = query ? "/sparql?query=" + encodeURIComponent(query) : "/sparql";
    if (window.location.pathname + window.location.search !== url) window.history.replaceState(null, "", url);
  }
  yasgui.on("query", function (_yasgui, tab) {
    keepInAddressBar(tab);
  });
  yasgui.on("tabSelect", function (_yasgui, tabId) {
    const tab = yasgui.getTab(tabId);
    if (tab) keepInAddressBar(tab);
    hideResultBar();
  });

  /* ---------- row count, time, truncation, downloads ---------- */

  const bar = document.getElementById("result-bar");
  const statusLine = document.getElementById("result-status");
  const truncation = document.getElementById("truncation-notice");
  const downloads = document.getElementById("downloads");
  const downloadList = downloads.querySelector("ul");

  function hideResultBar() {
    bar.hidden = true;
  }

  function placeResultBar(tab) {
    // Between the editor and the results of the current tab.
    const yasr = tab.getYasr();
    if (yasr && yasr.rootEl && yasr.rootEl.parentNode) yasr.rootEl.parentNode.insertBefore(bar, yasr.rootEl);
  }

  function queryKind(tab) {
    const type = String(tab.getYasqe().getQueryType() || "").toUpperCase();
    return type === "CONSTRUCT" || type === "DESCRIBE" ? "graph" : "results";
  }

  function showResult(tab, response, duration) {
    placeResultBar(tab);
    bar.hidden = false;
    const seconds = (duration / 1000).toFixed(2) + " s";
    if (response instanceof Error || !response || !response.headers) {
      statusLine.textContent = "The query failed after " + seconds + "; the message is below.";
      truncation.hidden = true;
      downloads.hidden = true;
      return;
    }
    const rows = Number(response.headers.get("X-MQMKG-Rows"));
    const limit = Number(response.headers.get("X-MQMKG-Row-Limit") || config.maxRows);
    const kind = queryKind(tab);
    const noun = kind === "graph" ? (rows === 1 ? "triple" : "triples") : rows === 1 ? "row" : "rows";
    statusLine.textContent = rows.toLocaleString("en") + " " + noun + " in " + seconds;
    if (response.headers.get("X-MQMKG-Truncated") === "true") {
      truncation.textContent =
        "Only the first " + limit.toLocaleString("en") + " " + noun + " are shown: the result was cut at the " +
        "endpoint's row limit, so more match. Narrow the query, or page through it with LIMIT and OFFSET.";
      truncation.hidden = false;
    } else {
      truncation.hidden = true;
    }
    drawDownloads(tab, kind);
  }

  function drawDownloads(tab, kind) {
    downloadList.replaceChildren();
    config.formats[kind].forEach(function (format) {
      const button = element("button", { type: "button", class: "secondary", "data-format": format.name, text: format.label });
      button.addEventListener("click", function () {
        download(tab, format, button);
      });
      downloadList.append(element("li", {}, [button]));
    });
    downloads.hidden = false;
  }

  async function download(tab, format, button) {
    button.disabled = true;
    try {
      const body = new URLSearchParams({ query: tab.getQuery(), format: format.name });
      const response = await fetch(endpoint, { method: "POST", body: body });
      if (!response.ok) {
        statusLine.textContent = "The download failed: " + (await problemDetail(response));
        return;
      }
      const url = URL.createObjectURL(await response.blob());
      const link = element("a", { href: url, download: slug(tab.getName()) + "." + format.extension });
      document.body.append(link);
      link.click();
      link.remove();
      window.setTimeout(function () {
        URL.revokeObjectURL(url);
      }, 10000);
    } finally {
      button.disabled = false;
    }
  }

  async function problemDetail(response) {
    const text = await response.text();
    try {
      return JSON.parse(text).detail || text;
    } catch (_error) {
      return text || response.statusText;
    }
  }

  const hooked = new WeakSet();
  function watch(tab) {
    const yasqe = tab && tab.getYasqe();
    if (!yasqe || hooked.has(yasqe)) return;
    hooked.add(yasqe);
    yasqe.on("queryResponse", function (_yasqe, response, duration) {
      showResult(tab, response, duration);
    });
  }
  yasgui.on("queryBefore", function (_yasgui, tab) {
    watch(tab);
    placeResultBar(tab);
    bar.hidden = false;
    statusLine.textContent = "Running…";
    truncation.hidden = true;
    downloads.hidden = true;
  });
  // A shared link (/sparql?query=...) starts its query while YASGUI is being built: catch its answer.
  watch(yasgui.getTab());

  /* ---------- errors: the endpoint's problem+json, readable ---------- */

  async function renderProblem(error) {
    let problem;
    try {
      problem = JSON.parse(error.text);
    } catch (_error) {
      return undefined;
    }
    if (!problem || typeof problem.detail !== "string") return undefined;
    const box = element("div", { class: "problem" }, [
      element("p", { class: "problem-title", text: "The endpoint refused the query (" + problem.status + " " + problem.title + ")" }),
      element("p", { class: "problem-detail", text: problem.detail }),
    ]);
    const tab = yasgui.getTab();
    const actions = element("p", { class: "actions" });
    if (tab && problem.line) {
      const go = element("button", {
        type: "button",
        class: "secondary",
        text: "Show line " + problem.line + (problem.column ? ", column " + problem.column : ""),
      });
      go.addEventListener("click", function () {
        const yasqe = tab.getYasqe();
        yasqe.focus();
        yasqe.getDoc().setCursor({ line: problem.line - 1, ch: Math.max((problem.column || 1) - 1, 0) });
      });
      actions.append(go);
    }
    if (tab && problem.declaration) {
      const add = element("button", { type: "button", text: "Add “" + problem.declaration + "” and run again" });
      add.addEventListener("click", function () {
        tab.getYasqe().getDoc().replaceRange(problem.declaration + "\n", { line: 0, ch: 0 });
        tab.query().catch(function () {});
      });
      actions.append(add);
    }
    if (actions.childNodes.length) box.append(actions);
    return box;
  }

  /* ---------- result IRIs: our /id/ pages and Wikidata ---------- */

  function linkResults(root) {
    root.querySelectorAll("a.iri:not([data-mqmkg])").forEach(function (link) {
      link.setAttribute("data-mqmkg", "");
      const iri = link.getAttribute("href") || "";
      if (!iri.startsWith(config.publicBase)) return;
      const local = iri.slice(config.publicBase.length);
      link.setAttribute("href", "/id/" + local);
      link.setAttribute("title", iri);
      link.removeAttribute("target");
      const qid = config.wikidata[local];
      if (qid) {
        link.after(
          " ",
          element("a", {
            class: "wikidata-link",
            href: "https://www.wikidata.org/wiki/" + qid,
            title: "Wikidata item " + qid,
            "data-mqmkg": "",
            text: qid,
          })
        );
      }
    });
  }
  const host = document.getElementById("yasgui");
  new MutationObserver(function () {
    linkResults(host);
  }).observe(host, { childList: true, subtree: true });
  linkResults(host);

  /* ---------- examples ---------- */

  document.getElementById("example-list").addEventListener("click", function (event) {
    const button = event.target.closest("button[data-example]");
    if (!button) return;
    const example = config.examples[button.getAttribute("data-example")];
    const tab = yasgui.addTab(
      true,
      { name: example.title, yasqe: { value: example.text }, requestConfig: { endpoint: endpoint } },
      { avoidDuplicateTabs: true }
    );
    yasgui.selectTabId(tab.getId());
    tab.query().catch(function () {});
    document.getElementById("yasgui").scrollIntoView({ block: "start" });
  });

  const filter = document.getElementById("example-filter");
  filter.addEventListener("input", function () {
    const words = filter.value.toLowerCase().split(/\s+/).filter(Boolean);
    let shown = 0;
    document.querySelectorAll("#example-list > li").forEach(function (item) {
      const text = item.getAttribute("data-text");
      const match = words.every(function (word) {
        return text.includes(word);
      });
      item.hidden = !match;
      if (match) shown += 1;
    });
    document.getElementById("example-none").hidden = shown > 0;
  });
})();
