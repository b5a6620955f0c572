// net-snmp 3.x ships no types: only what this worker and its tests use, checked against its index.js and README.
declare module 'net-snmp' {
  import type { EventEmitter } from 'node:events';
  import type { Socket } from 'node:dgram';

  namespace snmp {
    interface Varbind {
      oid: string;
      type: number;
      value: unknown;
    }

    interface OutgoingVarbind {
      oid: string;
      type: number;
      value: number | string | Buffer;
    }

    interface User {
      name: string;
      level: number;
      authProtocol?: number;
      authKey?: string;
      privProtocol?: number;
      privKey?: string;
    }

    interface SessionOptions {
      port?: number;
      retries?: number;
      timeout?: number;
      transport?: 'udp4' | 'udp6';
      trapPort?: number;
      version?: number;
      sourceAddress?: string;
      engineID?: string;
      context?: string;
    }

    interface TrapOptions {
      agentAddr?: string;
      upTime?: number;
    }

    interface Session extends EventEmitter {
      get(oids: string[], callback: (error: Error | null, varbinds?: Varbind[]) => void): Session;
      trap(
        typeOrOid: number | string,
        varbinds: OutgoingVarbind[],
        options: TrapOptions | string,
        callback: (error: Error | null) => void,
      ): Session;
      close(): Session;
    }

    function createSession(target: string, community: string, options?: SessionOptions): Session;
    function createV3Session(target: string, user: User, options?: SessionOptions): Session;

    interface Authorizer {
      addCommunity(community: string): void;
      addUser(user: User): void;
    }

    /** Interface-compatible with node:dgram (the `dgramModule` option of sessions, receivers and agents). */
    interface DgramModule {
      createSocket(type: 'udp4' | 'udp6'): Socket;
    }

    interface ListenerOptions {
      port?: number;
      address?: string | null;
      transport?: 'udp4' | 'udp6';
      disableAuthorization?: boolean;
      includeAuthentication?: boolean;
      engineID?: string;
      dgramModule?: DgramModule;
    }

    interface RemoteInfo {
      address: string;
      family: string;
      port: number;
      size: number;
    }

    /** A Trap (v1), TrapV2 or InformRequest PDU as the receiver decoded it. */
    interface NotificationPdu {
      type: number;
      varbinds: Varbind[];
      enterprise?: string;
      agentAddr?: string;
      generic?: number;
      specific?: number;
      upTime?: number;
      community?: string;
      user?: string;
    }

    interface Notification {
      pdu: NotificationPdu;
      rinfo: RemoteInfo;
    }

    /** Errors of a receiver: `rinfo` on a packet it refused, `buffer` and `error` on one it could not decode. */
    interface ReceiverError extends Error {
      rinfo?: RemoteInfo;
      buffer?: Buffer;
      error?: Error;
    }

    interface Receiver {
      getAuthorizer(): Authorizer;
      close(callback?: (socket: { address: string; family: string; port: number }) => void): void;
    }

    function createReceiver(
      options: ListenerOptions,
      callback: (error: ReceiverError | null, notification: Notification | null) => void,
    ): Receiver;

    interface MibRequest {
      oid: string;
      operation: number;
      instanceNode: { value: unknown };
      done(error?: { errorStatus: number }): void;
    }

    interface ScalarProvider {
      name: string;
      type: number;
      oid: string;
      scalarType: number;
      maxAccess: number;
      handler?: (request: MibRequest) => void;
    }

    interface Mib {
      registerProvider(provider: ScalarProvider): void;
      setScalarValue(name: string, value: number | string | Buffer): void;
    }

    interface Agent {
      getAuthorizer(): Authorizer;
      getMib(): Mib;
      close(callback?: (socket: { address: string; family: string; port: number }) => void): void;
    }

    function createAgent(
      options: ListenerOptions,
      callback: (error: Error | null, data: unknown) => void,
    ): Agent;

    const Version1: 0;
    const Version2c: 1;
    const Version3: 3;

    const ObjectType: {
      readonly Boolean: 1;
      readonly Integer: 2;
      readonly OctetString: 4;
      readonly Null: 5;
      readonly OID: 6;
      readonly IpAddress: 64;
      readonly Counter: 65;
      readonly Counter32: 65;
      readonly Gauge: 66;
      readonly Gauge32: 66;
      readonly TimeTicks: 67;
      readonly Opaque: 68;
      readonly Counter64: 70;
      readonly NoSuchObject: 128;
      readonly NoSuchInstance: 129;
      readonly EndOfMibView: 130;
    };

    const PduType: {
      readonly GetResponse: 162;
      readonly Trap: 164;
      readonly InformRequest: 166;
      readonly TrapV2: 167;
    };

    const TrapType: {
      readonly ColdStart: 0;
      readonly WarmStart: 1;
      readonly LinkDown: 2;
      readonly LinkUp: 3;
    };

    const SecurityLevel: { readonly noAuthNoPriv: 1; readonly authNoPriv: 2; readonly authPriv: 3 };
    const AuthProtocols: { readonly md5: 2; readonly sha: 3 };
    const PrivProtocols: { readonly des: 2; readonly aes: 4 };
    const MibProviderType: { readonly Scalar: 1; readonly Table: 2 };
    const MaxAccess: { readonly 'read-only': 2; readonly 'read-write': 3 };

    class RequestTimedOutError extends Error {}
    class RequestInvalidError extends Error {}
    class RequestFailedError extends Error {
      status: number;
    }
    class ResponseInvalidError extends Error {
      code: number;
    }
  }

  export = snmp;
}
