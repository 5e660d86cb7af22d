import { jobQueueContract } from './support/contract.js';

// Against the real Redis (127.0.0.1:6379 or PRONTO_TEST_REDIS_URL); each test has its own prefix.
jobQueueContract('redis');
