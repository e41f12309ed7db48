// esbuild bundles imported style sheets into app.css; the import itself yields nothing.
declare module '*.css';
