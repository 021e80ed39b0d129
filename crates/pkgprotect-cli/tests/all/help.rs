//! The help a newcomer reads: every command and argument described, every command with a
//! working example, and completions and man pages generated from the same tree.

use crate::{pkgprotect, scratch, stderr, stdout};
use clap::{CommandFactory, ValueEnum};
use pkgprotect_cli::Cli;
use std::collections::BTreeSet;
use std::process::Command;

/// Every command with the names leading to it (`["admin", "user", "create"]`; `[]` for the
/// top), except clap's own `help` subcommand.
fn commands() -> Vec<(Vec<String>, clap::Command)> {
    fn walk(command: &clap::Command, path: Vec<String>, out: &mut Vec<(Vec<String>, clap::Command)>) {
        out.push((path.clone(), command.clone()));
        for sub in command.get_subcommands().filter(|sub| sub.get_name() != "help") {
            let mut sub_path = path.clone();
            sub_path.push(sub.get_name().to_owned());
            walk(sub, sub_path, out);
        }
    }
    let mut root = Cli::command();
    // Building propagates the global flags, so each command lists every argument it accepts.
    root.build();
    let mut out = Vec::new();
    walk(&root, Vec::new(), &mut out);
    out
}

fn shown(path: &[String]) -> String {
    if path.is_empty() { "pkgprotect".to_owned() } else { format!("pkgprotect {}", path.join(" ")) }
}

fn about(command: &clap::Command) -> String {
    command.get_about().map(ToString::to_string).unwrap_or_default()
}

/// The lines under `Examples:` in a command's long help that run `pkgprotect`.
fn examples(command: &clap::Command) -> Vec<String> {
    let text = command.get_after_long_help().map(ToString::to_string).unwrap_or_default();
    let Some((_, section)) = text.split_once("Examples:\n") else { return Vec::new() };
    section
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(str::to_owned)
        .collect()
}

/// The words of a one-line shell command up to its first unquoted `|`, `>` or `<`. Any other
/// shell syntax fails the test, so that what clap parses here is what a shell would pass.
fn shell_words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word: Option<String> = None;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                let word = word.get_or_insert_with(String::new);
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(c) => word.push(c),
                        None => panic!("unterminated quote in `{line}`"),
                    }
                }
            }
            '"' => {
                let word = word.get_or_insert_with(String::new);
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => word.extend(chars.next()),
                        Some(c @ ('$' | '`')) => panic!("`{c}` inside double quotes in `{line}`"),
                        Some(c) => word.push(c),
                        None => panic!("unterminated quote in `{line}`"),
                    }
                }
            }
            '|' | '>' | '<' => break,
            '$' | '`' | ';' | '&' | '(' | ')' | '\\' | '*' | '?' | '[' | '~' => {
                panic!("unquoted `{c}` in `{line}`: keep examples to plain words and quotes")
            }
            c if c.is_whitespace() => words.extend(word.take()),
            c => word.get_or_insert_with(String::new).push(c),
        }
    }
    words.extend(word);
    words
}

#[test]
fn shell_words_split_like_a_shell() {
    assert_eq!(
        shell_words(r#"pkgprotect preview --pattern '@demo/*' "a \"b\"" c > out.txt"#),
        ["pkgprotect", "preview", "--pattern", "@demo/*", "a \"b\"", "c"]
    );
}

#[test]
fn every_command_and_argument_has_a_description() {
    let mut missing = Vec::new();
    for (path, command) in commands() {
        if about(&command).trim().is_empty() {
            missing.push(format!("command `{}`", shown(&path)));
        }
        for arg in command.get_arguments() {
            if arg.get_help().is_none_or(|help| help.to_string().trim().is_empty()) {
                missing.push(format!("argument `{}` of `{}`", arg.get_id(), shown(&path)));
            }
        }
    }
    assert!(missing.is_empty(), "without a description: {missing:#?}");
}

#[test]
fn no_command_describes_itself_with_another_commands_text() {
    let all = commands();
    for (path, command) in &all {
        let own = about(command);
        if let Some(long) = command.get_long_about() {
            assert!(long.to_string().starts_with(&own), "`{}`: long help does not start with its summary", shown(path));
        }
        for (other_path, other) in &all {
            if other_path != path {
                let theirs = about(other);
                assert!(
                    !own.starts_with(&theirs),
                    "`{}` is described as `{}` is: {own:?}",
                    shown(path),
                    shown(other_path)
                );
            }
        }
    }
}

#[test]
fn every_command_has_examples_that_parse_as_that_command() {
    for (path, command) in commands() {
        let examples = examples(&command);
        assert!(!examples.is_empty(), "`{}` has no example under `Examples:` in its long help", shown(&path));
        for example in examples {
            assert!(
                example.starts_with("pkgprotect "),
                "`{}`: example `{example}` does not run pkgprotect",
                shown(&path)
            );
            let words = shell_words(&example);
            let matches = Cli::command()
                .try_get_matches_from(&words)
                .unwrap_or_else(|error| panic!("`{}`: example `{example}` does not parse:\n{error}", shown(&path)));
            let mut invoked = Vec::new();
            let mut at = &matches;
            while let Some((name, sub)) = at.subcommand() {
                invoked.push(name.to_owned());
                at = sub;
            }
            assert!(
                invoked.starts_with(&path),
                "`{}`: example `{example}` runs `{}` instead",
                shown(&path),
                shown(&invoked)
            );
        }
    }
}

#[test]
fn the_binary_prints_each_commands_own_help_with_examples() {
    for (path, command) in commands() {
        let mut args: Vec<&str> = path.iter().map(String::as_str).collect();
        args.push("--help");
        let output = pkgprotect(&args);
        let text = stdout(&output);
        assert_eq!(output.status.code(), Some(0), "`{} --help`: {}", shown(&path), stderr(&output));
        assert_eq!(
            text.lines().next(),
            Some(about(&command).as_str()),
            "`{} --help` starts with:\n{text}",
            shown(&path)
        );
        assert!(text.contains("\nExamples:\n  "), "`{} --help` has no examples:\n{text}", shown(&path));
    }
}

#[test]
fn completions_generate_for_every_shell() {
    for shell in clap_complete::Shell::value_variants() {
        let name = shell.to_possible_value().map(|value| value.get_name().to_owned()).unwrap();
        let output = pkgprotect(&["completions", &name]);
        let script = stdout(&output);
        assert_eq!(output.status.code(), Some(0), "{name}: {}", stderr(&output));
        for word in ["pkgprotect", "conformance", "deploy-token", "--package-type"] {
            assert!(script.contains(word), "{name} completions do not mention `{word}`");
        }
    }
}

#[test]
fn bash_completions_are_valid_bash_and_complete_commands_and_values() {
    let output = pkgprotect(&["completions", "bash"]);
    let script = scratch("completions.bash", &stdout(&output));
    let syntax = Command::new("bash").arg("-n").arg(&script).output().unwrap();
    assert!(syntax.status.success(), "bash -n: {}", stderr(&syntax));
    // Bash calls the function with the command, the word being completed and the one before it.
    let complete = |words: &str, current: &str, previous: &str| {
        let program = format!(
            "source {}; COMP_WORDS=({words}); COMP_CWORD=$((${{#COMP_WORDS[@]}} - 1)); \
             _pkgprotect pkgprotect '{current}' '{previous}'; echo \"${{COMPREPLY[*]}}\"",
            script.display()
        );
        let output = Command::new("bash").arg("-c").arg(program).output().unwrap();
        assert!(output.status.success(), "{}", stderr(&output));
        stdout(&output).trim().to_owned()
    };
    assert_eq!(complete("pkgprotect che", "che", "pkgprotect"), "check");
    assert_eq!(complete("pkgprotect check --package-type n", "n", "--package-type"), "npm nuget");
    assert_eq!(complete("pkgprotect admin deploy-token c", "c", "deploy-token"), "create");
}

#[test]
fn man_pages_generate_one_per_command() {
    let top = pkgprotect(&["man"]);
    assert_eq!(top.status.code(), Some(0), "{}", stderr(&top));
    let page = stdout(&top);
    assert!(page.contains(".TH pkgprotect 1 "), "{page}");
    assert!(page.contains("Exit status:"), "{page}");

    let dir = scratch("man-marker", "").with_file_name("man");
    let _ = std::fs::remove_dir_all(&dir);
    let output = pkgprotect(&["man", "--out-dir", dir.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let expected: BTreeSet<String> = commands()
        .into_iter()
        .map(|(path, _)| std::iter::once("pkgprotect".to_owned()).chain(path).collect::<Vec<_>>().join("-") + ".1")
        .collect();
    let written: BTreeSet<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(written, expected);
    assert_eq!(stdout(&output).lines().count(), expected.len(), "one written path per line");
    for name in &written {
        let page = std::fs::read_to_string(dir.join(name)).unwrap();
        let title = name.trim_end_matches(".1");
        assert!(page.contains(&format!(".TH {title} 1 ")), "{name}: {page}");
        assert!(page.contains("Examples:"), "{name} has no examples");
    }
}
