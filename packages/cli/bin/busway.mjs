#!/usr/bin/env node
// Committed, so `npm ci` links `npx busway` before the build has written dist/ (npm skips a bin that is missing).
import '../dist/bin.js';
