export declare const BIN_DIR: string;
export declare function freePort(): Promise<number>;
export declare function startEtcd(dir: string): Promise<{ url: string; stop(): Promise<void> }>;
export interface Apiserver {
  url: string;
  port: number;
  token: string;
  kubeconfig: string;
  stop(signal?: NodeJS.Signals): Promise<void>;
  start(): Promise<void>;
}
export declare function startApiserver(opts: { etcdUrl: string; dir: string; etcdPrefix?: string; port?: number }): Promise<Apiserver>;
export declare function startKubeEnv(): Promise<{ dir: string; etcd: { url: string; stop(): Promise<void> }; apiserver: Apiserver; kubeconfig: string; stop(): Promise<void> }>;
export declare function applyCrds(kubeconfig: string): Promise<void>;
