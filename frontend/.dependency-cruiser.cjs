// `npm run cycles`: fails on an import cycle between the modules of src/.
// Type-only imports count too: a cycle of types still ties two concepts together.
// Parsed with swc because dependency-cruiser cannot use TypeScript 7's compiler.

/** @type {import("dependency-cruiser").IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: "no-circular",
      severity: "error",
      comment: "Modules import each other (directly or through others): move the shared part into its own module.",
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    parser: "swc",
    tsPreCompilationDeps: true,
    doNotFollow: { path: "node_modules" },
    exclude: { path: "\\.css$" },
  },
};
