/* The strata program's calendar dates (tools/cli.c): cli_parse_day() takes a
 * day number or a date YYYY-MM-DD for every option that takes a day, and
 * cli_day_text() shows a day with its date. The cases below are checked by
 * hand (day 0 is 1970-01-01; 365 days a year, 366 in a leap year: every 4th,
 * but not every 100th, but every 400th).
 *
 *   test_cli_dates            the hand-checked cases
 *   test_cli_dates --lines    for dates_check.py: each line of stdin, "parse TEXT"
 *                             or "text DAY", answered by one line on stdout
 *                             ("day N" or "error"; the day's text)
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "test.h"

static int64_t parsed(const char *text, int64_t min)
{
    int64_t day = 123456789;
    ASSERT_MSG(cli_parse_day("--day", text, min, &day) == CLI_OK, "'%s' refused", text);
    return day;
}

static void refused(const char *text)
{
    int64_t day = 123456789;
    ASSERT_MSG(cli_parse_day("--day", text, INT64_MIN + 1, &day) == CLI_USAGE, "'%s' taken",
               text);
    ASSERT_EQ_INT(day, 123456789); /* left as it was */
}

static void test_known_days(void)
{
    /* day 0, the days around it */
    ASSERT_EQ_INT(cli_day_from_date(1970, 1, 1), 0);
    ASSERT_EQ_INT(cli_day_from_date(1970, 1, 2), 1);
    ASSERT_EQ_INT(cli_day_from_date(1969, 12, 31), -1);
    ASSERT_EQ_INT(cli_day_from_date(1971, 1, 1), 365);
    /* 1972 is the first leap year after 1970: 1972-03-01 = 2 * 365 + 31 + 29 */
    ASSERT_EQ_INT(cli_day_from_date(1972, 3, 1), 790);
    /* 2000-01-01: 30 years of which 7 leap (72, 76, ..., 96) = 30 * 365 + 7 */
    ASSERT_EQ_INT(cli_day_from_date(2000, 1, 1), 10957);
    /* 2000 is a leap year (divisible by 400): Feb 29 exists, March 1 is 31 + 29 on */
    ASSERT_EQ_INT(cli_day_from_date(2000, 2, 29), 10957 + 59);
    ASSERT_EQ_INT(cli_day_from_date(2000, 3, 1), 10957 + 60);
    /* 1900 is not (divisible by 100): 1900-01-01 = -(70 * 365 + 17 leap days 1904..1968) */
    ASSERT_EQ_INT(cli_day_from_date(1900, 1, 1), -25567);
    ASSERT_EQ_INT(cli_day_from_date(1900, 2, 28), -25567 + 58);
    ASSERT_EQ_INT(cli_day_from_date(1900, 3, 1), -25567 + 59);
    /* 2024 is: 2024-01-01 = 54 * 365 + 13 leap days (1972..2020) */
    ASSERT_EQ_INT(cli_day_from_date(2024, 1, 1), 19723);
    ASSERT_EQ_INT(cli_day_from_date(2024, 2, 29), 19723 + 59);
    ASSERT_EQ_INT(cli_day_from_date(2024, 3, 1), 19723 + 60);
    /* CDNOW's calibration end and holdout end (docs/clv.md) */
    ASSERT_EQ_INT(cli_day_from_date(1997, 9, 30), 10134);
    ASSERT_EQ_INT(cli_day_from_date(1998, 6, 30), 10407);
    /* the ends of the years 0001..9999: 1969 years of 365 days + 477 leap
     * days (492 fourth years, less 19 centuries, plus 4 of 400) before 1970 */
    ASSERT_EQ_INT(cli_day_from_date(1, 1, 1), -(1969 * 365 + 477));
    ASSERT_EQ_INT(cli_day_from_date(1, 1, 1), CLI_DAY_FIRST_DATE);
    ASSERT_EQ_INT(cli_day_from_date(9999, 12, 31), CLI_DAY_LAST_DATE);
    ASSERT_EQ_INT(cli_day_from_date(10000, 1, 1), CLI_DAY_LAST_DATE + 1);
}

static void test_dates_of_days(void)
{
    static const struct {
        int64_t day, y;
        int m, d;
    } C[] = {{0, 1970, 1, 1},        {-1, 1969, 12, 31},    {790, 1972, 3, 1},
             {11016, 2000, 2, 29},   {11017, 2000, 3, 1},   {-25509, 1900, 2, 28},
             {-25508, 1900, 3, 1},   {19782, 2024, 2, 29},  {10134, 1997, 9, 30},
             {-719162, 1, 1, 1},     {2932896, 9999, 12, 31}, {-719163, 0, 12, 31}};
    for (size_t i = 0; i < sizeof C / sizeof C[0]; i++) {
        int64_t y = -1;
        int m = -1, d = -1;
        cli_date_of_day(C[i].day, &y, &m, &d);
        ASSERT_MSG(y == C[i].y && m == C[i].m && d == C[i].d, "day %lld: %lld-%d-%d",
                   (long long)C[i].day, (long long)y, m, d);
    }
    /* every day of 1896..2104 round trip, one day after the other */
    int64_t y0;
    int m0, d0;
    cli_date_of_day(cli_day_from_date(1896, 1, 1) - 1, &y0, &m0, &d0);
    for (int64_t day = cli_day_from_date(1896, 1, 1); day <= cli_day_from_date(2104, 12, 31);
         day++) {
        int64_t y;
        int m, d;
        cli_date_of_day(day, &y, &m, &d);
        ASSERT_EQ_INT(cli_day_from_date(y, m, d), day);
        int next = (y == y0 && m == m0 && d == d0 + 1) || (y == y0 && m == m0 + 1 && d == 1) ||
                   (y == y0 + 1 && m == 1 && d == 1 && m0 == 12 && d0 == 31);
        ASSERT_MSG(next, "day %lld: %lld-%d-%d after %lld-%d-%d", (long long)day, (long long)y,
                   m, d, (long long)y0, m0, d0);
        y0 = y, m0 = m, d0 = d;
    }
}

static void test_parse(void)
{
    /* day numbers as before: any integer >= min */
    ASSERT_EQ_INT(parsed("10134", INT64_MIN + 1), 10134);
    ASSERT_EQ_INT(parsed("-5", INT64_MIN + 1), -5);
    ASSERT_EQ_INT(parsed("0", 0), 0);
    ASSERT_EQ_INT(parsed("-2147483648", INT32_MIN), INT32_MIN);
    /* dates */
    ASSERT_EQ_INT(parsed("1970-01-01", INT64_MIN + 1), 0);
    ASSERT_EQ_INT(parsed("1997-09-30", INT32_MIN), 10134);
    ASSERT_EQ_INT(parsed("1998-06-30", INT32_MIN), 10407);
    ASSERT_EQ_INT(parsed("2000-02-29", INT32_MIN), 11016);
    ASSERT_EQ_INT(parsed("2000-03-01", INT32_MIN), 11017);
    ASSERT_EQ_INT(parsed("2024-02-29", INT32_MIN), 19782);
    ASSERT_EQ_INT(parsed("1900-02-28", INT32_MIN), -25509);
    ASSERT_EQ_INT(parsed("1969-12-31", INT32_MIN), -1);
    ASSERT_EQ_INT(parsed("0001-01-01", INT32_MIN), -719162);
    ASSERT_EQ_INT(parsed("9999-12-31", INT32_MIN), 2932896);
    /* no such day, not the form, out of range, junk */
    const char *bad[] = {"1900-02-29", "1997-02-29", "1997-02-30", "1997-04-31", "1997-00-10",
                         "1997-13-01", "1997-01-00", "1997-01-32", "1997-9-3", "1997-09-3",
                         "97-09-30", "1997-09-30x", "1997-09-30 ", " 1997-09-30",
                         "1997-09-30T00:00", "1997/09/30", "19970930-", "1997-09", "1997-",
                         "1997--09-30", "0000-01-01", "10000-01-01", "+1997-09-30",
                         "-1997-09-30", "1997-0a-30", "1997-09-3a", "199a-09-30", "1e3", "",
                         "x", "10134x", "1-", "9223372036854775808"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        refused(bad[i]);
    /* min applies to day numbers and dates alike */
    int64_t day = 7;
    ASSERT_EQ_INT(cli_parse_day("--day", "-1", 0, &day), CLI_USAGE);
    ASSERT_EQ_INT(cli_parse_day("--day", "1969-12-31", 0, &day), CLI_USAGE);
    ASSERT_EQ_INT(day, 7);
}

static void test_text(void)
{
    char buf[CLI_DAY_TEXT];
    ASSERT_STR_EQ(cli_day_text(0, buf), "0 (1970-01-01)");
    ASSERT_STR_EQ(cli_day_text(10134, buf), "10134 (1997-09-30)");
    ASSERT_STR_EQ(cli_day_text(-1, buf), "-1 (1969-12-31)");
    ASSERT_STR_EQ(cli_day_text(-719162, buf), "-719162 (0001-01-01)");
    ASSERT_STR_EQ(cli_day_text(2932896, buf), "2932896 (9999-12-31)");
    /* no date outside the years 0001..9999 (Unix seconds read as days) */
    ASSERT_STR_EQ(cli_day_text(-719163, buf), "-719163");
    ASSERT_STR_EQ(cli_day_text(2932897, buf), "2932897");
    ASSERT_STR_EQ(cli_day_text(1700000000, buf), "1700000000");
    ASSERT_STR_EQ(cli_day_text(INT64_MIN, buf), "-9223372036854775808");
}

/* One answer per line of stdin (dates_check.py compares them with Python's
 * datetime). */
static int lines(void)
{
    char line[256];
    while (fgets(line, sizeof line, stdin)) {
        line[strcspn(line, "\n")] = '\0';
        if (!strncmp(line, "parse ", 6)) {
            int64_t day;
            if (cli_parse_day("--day", line + 6, INT64_MIN + 1, &day) == CLI_OK)
                printf("day %lld\n", (long long)day);
            else
                printf("error\n");
        } else if (!strncmp(line, "text ", 5)) {
            char buf[CLI_DAY_TEXT];
            printf("%s\n", cli_day_text(strtoll(line + 5, NULL, 10), buf));
        } else {
            printf("?\n");
        }
    }
    return fflush(stdout) ? 1 : 0;
}

int main(int argc, char **argv)
{
    if (argc == 2 && !strcmp(argv[1], "--lines"))
        return lines();
    RUN_TEST(test_known_days);
    RUN_TEST(test_dates_of_days);
    RUN_TEST(test_parse);
    RUN_TEST(test_text);
    return test_summary();
}
