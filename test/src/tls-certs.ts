// Throwaway test PKI made with the openssl binary: a CA, a server certificate for 127.0.0.1 and client
// certificates. EC P-256 keys, valid two days, written to a temp dir the caller deletes; nothing is committed.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

function openssl(args: string[], cwd: string): void {
  try {
    execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (err) {
    const stderr = (err as { stderr?: Buffer }).stderr?.toString() ?? '';
    throw new Error(`openssl ${args[0]} failed (is the openssl binary installed?): ${stderr || String(err)}`);
  }
}

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

/** Files of one certificate. */
export interface CertFiles {
  cert: string;
  key: string;
}

/** A CA in `dir`, able to sign server and client certificates. */
export class TestPki {
  readonly ca: string;
  private readonly caKey: string;

  constructor(
    readonly dir: string,
    caName = 'busway-test-ca',
  ) {
    this.ca = join(dir, `${caName}.crt`);
    this.caKey = join(dir, `${caName}.key`);
    openssl(
      [
        'req',
        '-x509',
        ...EC,
        '-keyout',
        this.caKey,
        '-out',
        this.ca,
        '-days',
        '2',
        '-subj',
        `/CN=${caName}`,
        '-addext',
        'basicConstraints=critical,CA:TRUE',
        '-addext',
        'keyUsage=critical,keyCertSign,cRLSign',
      ],
      dir,
    );
  }

  /** A certificate signed by this CA: for the server (127.0.0.1, localhost) or a client (CN = name). */
  issue(name: string, use: 'server' | 'client'): CertFiles {
    const key = join(this.dir, `${name}.key`);
    const csr = join(this.dir, `${name}.csr`);
    const cert = join(this.dir, `${name}.crt`);
    const ext = join(this.dir, `${name}.ext`);
    writeFileSync(
      ext,
      use === 'server'
        ? 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n'
        : `subjectAltName=DNS:${name}\nextendedKeyUsage=clientAuth\n`,
    );
    openssl(['req', ...EC, '-keyout', key, '-out', csr, '-subj', `/CN=${name}`], this.dir);
    openssl(
      [
        'x509',
        '-req',
        '-in',
        csr,
        '-CA',
        this.ca,
        '-CAkey',
        this.caKey,
        '-CAcreateserial',
        '-out',
        cert,
        '-days',
        '2',
        '-extfile',
        ext,
      ],
      this.dir,
    );
    return { cert, key };
  }
}
