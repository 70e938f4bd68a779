// The relations graph: Cytoscape.js (vendored) over the elements the page embeds as JSON.
// A node opens its page, an edge the claim behind it. The table under the graph lists the
// same edges for keyboards and screen readers.
(function () {
  "use strict";

  var EDGE_COLOURS = {
    split: "#c0392b", names: "#7f8c8d", leadership: "#1f6fb2", membership: "#5dade2",
    office: "#16a085", alliance: "#27ae60", rupture: "#e67e22", rivalry: "#8e44ad",
    affiliation: "#b7950b", accusation: "#c2185b", denial: "#00796b", place: "#6d4c41",
    other: "#9e9e9e"
  };
  var NODES = {
    alliance: ["#fcf3cf", "octagon"], organization: ["#d6e6f5", "round-rectangle"],
    person: ["#fde2c8", "ellipse"], group: ["#e8daef", "hexagon"], place: ["#d5f5e3", "diamond"],
    name: ["#f2f3f4", "round-tag"], post: ["#e0f2f1", "barrel"], other: ["#eeeeee", "ellipse"]
  };

  function style() {
    var rules = [
      { selector: "node", style: {
        "label": "data(label)", "font-size": 12, "text-wrap": "wrap", "text-max-width": 110,
        "text-valign": "center", "text-halign": "center", "width": 120, "height": 44,
        "border-width": 1, "border-color": "#555", "color": "#1d1d1f" } },
      { selector: "edge", style: {
        "label": "data(label)", "font-size": 9, "min-zoomed-font-size": 6, "text-rotation": "autorotate",
        "color": "#333",
        "text-background-color": "#fff", "text-background-opacity": 0.85, "text-background-padding": 1,
        "curve-style": "bezier", "target-arrow-shape": "triangle", "width": 2, "arrow-scale": 0.9 } },
      { selector: "edge[kind = 'rupture']", style: { "line-style": "dashed", "target-arrow-shape": "tee" } },
      { selector: "edge[kind = 'denial']", style: { "line-style": "dotted" } },
      { selector: ":selected", style: { "border-width": 3, "border-color": "#000", "width": 4 } }
    ];
    Object.keys(NODES).forEach(function (key) {
      rules.push({ selector: "node[category = '" + key + "']",
                   style: { "background-color": NODES[key][0], "shape": NODES[key][1] } });
    });
    Object.keys(EDGE_COLOURS).forEach(function (key) {
      rules.push({ selector: "edge[kind = '" + key + "']",
                   style: { "line-color": EDGE_COLOURS[key], "target-arrow-color": EDGE_COLOURS[key] } });
    });
    return rules;
  }

  function draw() {
    var container = document.getElementById("relations-graph");
    var data = document.getElementById("relations-data");
    if (!container || !data || typeof window.cytoscape !== "function") {
      return;
    }
    var cy = window.cytoscape({
      container: container,
      elements: JSON.parse(data.textContent),
      style: style(),
      layout: { name: "cose", randomize: false, animate: false, nodeRepulsion: function () { return 200000; },
                idealEdgeLength: function () { return 100; }, nodeOverlap: 20, padding: 10,
                componentSpacing: 40, gravity: 5, nestingFactor: 1.2, numIter: 2500 },
      minZoom: 0.2,
      maxZoom: 3
    });
    cy.on("tap", "node, edge", function (event) {
      var href = event.target.data("href");
      if (href) {
        window.location.href = href;
      }
    });
    container.dataset.ready = "true";
    window.mqmkgRelations = cy;
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
