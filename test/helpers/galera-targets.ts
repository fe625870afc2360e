import { randomBytes } from 'node:crypto'
import type { Knex } from 'knex'
import { connectTo, type Place } from '../reliability/helpers/databases.js'

// The nodes of the MariaDB Galera cluster of scripts/galera.sh, from GALERA_URLS (a URL per
// node, comma-separated). Each test file works in a database of its own, created by the first
// connection that opens on any node (DDL replicates to every node) and dropped at the end.

/** The URL of each node, in order; empty when GALERA_URLS is unset. */
export const galeraUrls: readonly string[] = (process.env.GALERA_URLS ?? '')
  .split(',')
  .map((url) => url.trim())
  .filter((url) => url !== '')

/** Whether the Galera tests run. */
export const galeraEnabled = galeraUrls.length > 0

/** Says once, on the console, that a Galera test is skipped and how to run it. */
export function reportGaleraSkipped(suite: string): void {
  if (galeraEnabled) return
  console.info(
    `[${suite}] skipped: GALERA_URLS is not set. To run it: \`eval "$(bash scripts/galera.sh start)"\` ` +
      '(a three-node MariaDB Galera cluster on 127.0.0.1), or set GALERA_URLS=mysql://...node1,mysql://...node2,mysql://...node3.',
  )
}

/** A database name of this file's run, the same on every node. */
export function galeraDatabaseName(label: string): string {
  return `throughline_galera_${label}_${String(process.pid)}_${randomBytes(3).toString('hex')}`
}

/** The place (a database of `name` on node `node`, from 0) that the reliability helpers connect to. */
export function galeraPlace(node: number, name: string): Place {
  const url = galeraUrls[node % galeraUrls.length]
  if (url === undefined) throw new Error('GALERA_URLS is not set.')
  return { server: 'mysql', url, name }
}

/** A Knex instance on node `node`, in database `name` (created on first use). */
export function connectToNode(node: number, name: string, max = 4): Knex {
  return connectTo(galeraPlace(node, name), { max })
}
