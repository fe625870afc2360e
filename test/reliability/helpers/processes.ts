import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('../../..', import.meta.url))

/** A child process that runs a TypeScript worker and talks in JSON lines. */
export class WorkerProcess<Message extends { readonly type: string }> {
  readonly messages: Message[] = []
  readonly stderr: string[] = []
  readonly exited: Promise<number | null>
  readonly #child: ChildProcessWithoutNullStreams
  readonly #waiters: { readonly test: (message: Message) => boolean; readonly resolve: (message: Message) => void; readonly reject: (error: Error) => void }[] = []
  #ended = false

  /** Starts `node --import ./scripts/ts-node.mjs <script> <args...>` from the repository root. */
  constructor(script: string, args: readonly string[]) {
    this.#child = spawn(process.execPath, ['--import', './scripts/ts-node.mjs', script, ...args], {
      cwd: root,
      env: { ...process.env, NODE_NO_WARNINGS: '1' },
      stdio: ['pipe', 'pipe', 'pipe'],
    })
    createInterface({ input: this.#child.stdout }).on('line', (line) => {
      let message: Message
      try {
        message = JSON.parse(line) as Message
      } catch {
        this.stderr.push(`(stdout) ${line}`)
        return
      }
      this.messages.push(message)
      for (const waiter of [...this.#waiters]) {
        if (waiter.test(message)) {
          this.#waiters.splice(this.#waiters.indexOf(waiter), 1)
          waiter.resolve(message)
        }
      }
    })
    createInterface({ input: this.#child.stderr }).on('line', (line) => this.stderr.push(line))
    this.exited = new Promise((resolve) => {
      this.#child.on('exit', (code) => {
        this.#ended = true
        for (const waiter of this.#waiters.splice(0)) waiter.reject(new Error(`The worker exited (code ${String(code)}) first.\n${this.stderr.join('\n')}`))
        resolve(code)
      })
    })
  }

  /** The first message (already received or coming) that passes `test`. */
  waitFor(test: (message: Message) => boolean, timeoutMs = 120_000): Promise<Message> {
    const found = this.messages.find(test)
    if (found !== undefined) return Promise.resolve(found)
    if (this.#ended) return Promise.reject(new Error(`The worker has exited.\n${this.stderr.join('\n')}`))
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`No message from the worker in ${String(timeoutMs)} ms.\n${this.stderr.join('\n')}`))
      }, timeoutMs)
      this.#waiters.push({
        test,
        resolve: (message) => {
          clearTimeout(timer)
          resolve(message)
        },
        reject: (error) => {
          clearTimeout(timer)
          reject(error)
        },
      })
    })
  }

  /** Writes one line to the worker's standard input. */
  send(line: string): void {
    this.#child.stdin.write(`${line}\n`)
  }

  /** Ends the worker if it is still running (only this process, by its own handle). */
  kill(): void {
    if (!this.#ended) this.#child.kill('SIGKILL')
  }
}
