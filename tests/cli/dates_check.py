"""The strata program's dates (tools/cli.c: cli_parse_day, cli_day_text)
against Python's datetime, over a sweep of dates:

    dates_check.py TEST_CLI_DATES

TEST_CLI_DATES is the test program (test_cli_dates.c) run with --lines: every
date of 1896..2104 and of the first and last years, every 97th day from
0001-01-01 to 9999-12-31 (all months, both leap rules), as text to parse and
as day numbers to show; every text of a day that does not exist in each month
of several years (leap and not) refused; and day numbers outside the years
0001..9999 shown without a date."""
import datetime
import subprocess
import sys

EPOCH = datetime.date(1970, 1, 1)
FIRST, LAST = datetime.date(1, 1, 1), datetime.date(9999, 12, 31)


def main():
    program = sys.argv[1]
    days = set(range((datetime.date(1896, 1, 1) - EPOCH).days,
                     (datetime.date(2104, 12, 31) - EPOCH).days + 1))
    days |= set(range((FIRST - EPOCH).days, (FIRST - EPOCH).days + 800))
    days |= set(range((LAST - EPOCH).days - 800, (LAST - EPOCH).days + 1))
    days |= set(range((FIRST - EPOCH).days, (LAST - EPOCH).days + 1, 97))
    days = sorted(days)
    questions, answers = [], []
    for n in days:
        date = EPOCH + datetime.timedelta(days=n)
        questions += [f"parse {date.isoformat()}", f"text {n}"]
        answers += [f"day {n}", f"{n} ({date.isoformat()})"]
    # texts of days that do not exist (day 29..32 of each month, day 00)
    for year in (1, 4, 100, 400, 1900, 1996, 1997, 2000, 2023, 2024, 2100, 9996, 9999):
        for month in range(1, 13):
            for day in (0, 28, 29, 30, 31, 32):
                text = f"{year:04d}-{month:02d}-{day:02d}"
                try:
                    n = (datetime.date(year, month, day) - EPOCH).days
                    want = f"day {n}"
                except ValueError:
                    want = "error"
                questions.append(f"parse {text}")
                answers.append(want)
        for month in (0, 13, 99):
            questions.append(f"parse {year:04d}-{month:02d}-01")
            answers.append("error")
    # out of the years 0001..9999: the number alone
    for n in ((FIRST - EPOCH).days - 1, (LAST - EPOCH).days + 1, 1_700_000_000, -3_000_000):
        questions.append(f"text {n}")
        answers.append(str(n))
    p = subprocess.run([program, "--lines"], input="\n".join(questions) + "\n",
                       capture_output=True, text=True, timeout=120)
    got = p.stdout.splitlines()
    if p.returncode != 0 or len(got) != len(answers):
        sys.exit(f"FAIL: exit {p.returncode}, {len(got)} answers to {len(answers)} questions")
    wrong = [(q, g, a) for q, g, a in zip(questions, got, answers) if g != a]
    for q, g, a in wrong[:20]:
        print(f"FAIL: {q!r}: got {g!r}, datetime says {a!r}")
    if wrong:
        sys.exit(f"FAIL: {len(wrong)} of {len(answers)} answers differ from datetime's")
    print(f"OK: {len(answers)} answers ({len(days)} days) as datetime gives them")


if __name__ == "__main__":
    main()
