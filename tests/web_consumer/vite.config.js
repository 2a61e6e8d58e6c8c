// Two pages: the React app in the gate, and one that imports only the fetch entry.
export default {
  build: { manifest: true, target: "es2022", rollupOptions: { input: ["index.html", "fetch-only.html"] } },
};
