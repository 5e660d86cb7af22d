import { jobQueueContract } from './support/contract.js';

jobQueueContract('memory');
