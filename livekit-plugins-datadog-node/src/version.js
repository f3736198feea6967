// (C) Datadog, Inc. 2026-present
// All rights reserved
// Licensed under a 3-clause BSD style license (see LICENSE)
// Kept equal to package.json's version (a test checks it).
export const VERSION = '0.1.0';
