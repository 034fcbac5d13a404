/* Unsafe libc calls become compile errors in every file that includes this header
 * (include it last). Use snprintf, memcpy with checked lengths, dm_buf, strtol family. */
#ifndef DM_BANNED_H
#define DM_BANNED_H

#define DM_BANNED(func) sorry_##func##_is_a_banned_function

#undef strcpy
#define strcpy(x, y) DM_BANNED(strcpy)
#undef strcat
#define strcat(x, y) DM_BANNED(strcat)
#undef strncpy
#define strncpy(x, y, n) DM_BANNED(strncpy)
#undef strncat
#define strncat(x, y, n) DM_BANNED(strncat)
#undef sprintf
#define sprintf(...) DM_BANNED(sprintf)
#undef vsprintf
#define vsprintf(...) DM_BANNED(vsprintf)
#undef gets
#define gets(x) DM_BANNED(gets)
#undef strtok
#define strtok(x, y) DM_BANNED(strtok)
#undef atoi
#define atoi(x) DM_BANNED(atoi)
#undef atol
#define atol(x) DM_BANNED(atol)
#undef gmtime
#define gmtime(x) DM_BANNED(gmtime)
#undef localtime
#define localtime(x) DM_BANNED(localtime)
#undef ctime
#define ctime(x) DM_BANNED(ctime)
#undef asctime
#define asctime(x) DM_BANNED(asctime)

#endif
