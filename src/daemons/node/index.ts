// The daemons layer's IO: loading kinds from module files. Pure parts never import this.
export { loadDaemonModule, loadKindCatalog } from './module-loader.js';
