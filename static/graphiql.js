// GraphiQL's page (views/templates/graphiql.html), without inline script: GraphiQL with the
// explorer plugin, querying /graphql over HTTP and subscribing over its WebSocket. A signed-in
// browser's requests carry the page's CSRF token; the query, variables and headers are kept in
// the URL's q, variables and headers parameters so a link can share them.
(() => {
  "use strict";
  const root = document.getElementById("graphiql");
  const parameters = Object.fromEntries(new URLSearchParams(window.location.search));

  function updateURL(data) {
    Object.assign(parameters, data);
    const kept = Object.entries(parameters).filter(([, value]) => Boolean(value));
    history.replaceState(null, "", "?" + new URLSearchParams(kept).toString());
  }

  const url = window.location.href.split("?")[0];
  const socket = new URL(url);
  socket.protocol = socket.protocol === "http:" ? "ws:" : "wss:";
  socket.hash = "";
  const headers = root.dataset.csrfToken ? { "X-CSRF-Token": root.dataset.csrfToken } : {};
  const fetcher = GraphiQL.createFetcher({ url, headers, subscriptionUrl: socket.toString() });

  function GraphiQLWithExplorer() {
    const [query, setQuery] = React.useState(parameters.q || "{ viewer { name email role } }");
    const [variables, setVariables] = React.useState(parameters.variables);
    const [requestHeaders, setHeaders] = React.useState(parameters.headers);
    return React.createElement(GraphiQL, {
      fetcher,
      defaultEditorToolsVisibility: true,
      plugins: [GraphiQLPluginExplorer.explorerPlugin()],
      query,
      variables,
      headers: requestHeaders,
      onEditQuery: (value) => { setQuery(value); updateURL({ q: value }); },
      onEditVariables: (value) => { setVariables(value); updateURL({ variables: value }); },
      onEditHeaders: setHeaders,
      inputValueDeprecation: true,
      isHeadersEditorEnabled: true,
      shouldPersistHeaders: true,
    });
  }

  ReactDOM.createRoot(root).render(React.createElement(GraphiQLWithExplorer));
})();
