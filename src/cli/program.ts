// The CLI is a translator: each command file maps flags to library calls and prints the result.
// Every file in ./commands exports `register(program)`; this is the one list of them.
import { Command } from 'commander';

export type Register = (program: Command) => void;

export function buildProgram(commands: Register[]): Command {
  const program = new Command('redline')
    .description('redline: self-hosted AI usage-policy gateway')
    .showHelpAfterError()
    .configureHelp({ sortSubcommands: true });
  for (const register of commands) register(program);
  return program;
}
