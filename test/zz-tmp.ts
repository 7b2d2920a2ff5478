import { startInProcess } from './helpers/in-process.js';
const s = await startInProcess();
console.log(s.url);
setTimeout(() => { void s.close(); }, 90000);
