/* Entry points of the verbs (contract §2).  Each takes the argv after the
 * verb (argv[0] is the verb name) and returns the process exit code. */
#pragma once

int aa_cmd_run(int argc, char **argv);         /* run (implied), check, break-glass, rollback: run.c */
int aa_cmd_verify(int argc, char **argv);      /* verify.c */
int aa_cmd_lint(int argc, char **argv);        /* lint.c */
int aa_cmd_pending(int argc, char **argv);     /* pending.c */
int aa_cmd_flush(int argc, char **argv);       /* forward.c */
int aa_cmd_report(int argc, char **argv);      /* report.c */
