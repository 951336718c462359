export const TFJS_CORE_VERSION: string;
