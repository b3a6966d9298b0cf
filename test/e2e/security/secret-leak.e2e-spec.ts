import { secretLeakSuite } from './secret-leak.suite.js';

secretLeakSuite('text');
