export * from './types';
export * from './decode';
export * from './text';
