// electron-vite's import suffixes (`./training/worker?modulePath` in src/main/index.ts).
/// <reference types="electron-vite/node" />
